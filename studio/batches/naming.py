"""A batch run's pure logic: the executed notebook's name, ``-p NAME VALUE`` values read as
papermill reads them, and the one line that names a failed cell. No files, no processes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

BATCH_DIR: Final = "04_Project_Files/Batch"
BATCH_KIND: Final = "batch"
"""The ``kind`` of a batch run's records in the job log (``info["kind"]``)."""
TIMESTAMP_FORMAT: Final = "%Y%m%dT%H%M%S%fZ"
"""UTC, to the microsecond: names sort by start, and runs started together differ."""
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


def batch_stem(notebook_name: str, started: datetime, *, attempt: int = 0) -> str:
    """``<name>_<UTC timestamp>`` (``_2``, ``_3``... when that name is taken): the name of a
    run's executed notebook, without ``.ipynb``. ``notebook_name`` is the file's name."""
    name = notebook_name.removesuffix(".ipynb")
    name = _UNSAFE.sub("_", name).strip("._") or "notebook"
    stamp = started.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    return f"{name}_{stamp}" + (f"_{attempt + 1}" if attempt else "")


def parse_value(text: str) -> Any:
    """A ``-p NAME VALUE`` value as papermill's own ``-p`` reads it: ``True``/``False`` and
    ``None``, else an int, else a float, else the text itself."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def parse_parameters(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``-p`` pairs as parameters (a name given twice: the last value wins, as in papermill)."""
    parameters: dict[str, Any] = {}
    for name, text in pairs:
        if not name.isidentifier():
            raise ValueError(f"parameter name {name!r} is not a Python identifier")
        parameters[name] = parse_value(text)
    return parameters


@dataclass(frozen=True)
class FailedCell:
    """The cell a batch run stopped at: its index in the notebook that was run (from 0),
    its tags or first line, and the error."""

    index: int
    label: str
    error: str
    """``ErrorName: message``."""

    def describe(self, *, canceled: bool = False) -> str:
        if canceled:  # the error is the interrupt's KeyboardInterrupt: not the cell's fault
            return f"canceled in cell {self.index} ({self.label})"
        return f"cell {self.index} ({self.label}) failed: {self.error}"

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "label": self.label, "error": self.error}


def cell_label(source: str, tags: list[str]) -> str:
    """What names a cell to its reader: its tags (``tag parameters``) or its first line of
    code, shortened."""
    if tags:
        return "tag " + ", ".join(tags)
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return first if len(first) <= 60 else first[:59] + "…"
