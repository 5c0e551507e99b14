"""Reading and writing the studio's JSON documents as validated pydantic models.

Errors always name the file and, when validation fails, the field (``project_settings.quality``),
so a hand-edited file can be fixed without guessing.

Only standard JSON goes in and out: Python's ``json`` module would read and write ``NaN``,
``Infinity`` and ``1e999`` (as infinity), which the browser's ``JSON.parse`` and most other
readers refuse. :func:`strict_loads` refuses them on the way in, :func:`dump_json` on the way
out, and :func:`check_nesting` bounds how deep a document nests *before* it is parsed (the
parser recurses, so 100k ``[`` would exhaust the stack).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Final, NoReturn, TypeVar

from pydantic import AfterValidator, BaseModel, ValidationError

from studio.atomic import atomic_write_bytes, exclusive_write_bytes
from studio.errors import InvalidInput, ManifestError

M = TypeVar("M", bound=BaseModel)
MAX_NESTING: Final = 64
"""How deep arrays and objects may nest in what a client sends (a canvas nests about 4)."""
# Unrolled loop (no quantifier nested in another): linear even on an unclosed string, where
# ``"(?:[^"\\]+|\\.)*"`` backtracks exponentially and would stall the server's event loop.
_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET: Final = re.compile(r"[\[\]{}]")


class JSONTooDeep(ValueError):
    """A document nests deeper than allowed (refused before parsing)."""


def _non_finite(where: Path | str | None) -> InvalidInput:
    target = f" to {where}" if where is not None else ""
    return InvalidInput(
        f"refusing to write NaN or Infinity{target}: JSON has no such numbers",
        hint="use finite numbers (positions, sizes and fields are plain numbers)",
    )


def dump_json(value: Any, *, where: Path | str | None = None) -> bytes:
    """The studio's JSON style: UTF-8, 2-space indent, trailing newline (diff-friendly).
    Non-finite numbers are refused (``InvalidInput``), so every reader can read the result."""
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise _non_finite(where) from None
    return (text + "\n").encode()


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number (JSON numbers are finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range (JSON numbers are finite)")
    return value


def require_finite(value: Any) -> Any:
    """``value`` unchanged if no float inside it (at any depth) is NaN or infinite, else
    ``ValueError``: a pydantic ``AfterValidator`` for free-form JSON fields."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{item!r} is not a finite number (JSON has no NaN or Infinity)")
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return value


FiniteJSON = Annotated[dict[str, Any], AfterValidator(require_finite)]
"""A free-form JSON object whose numbers are all finite."""


def check_nesting(text: str, *, limit: int = MAX_NESTING) -> None:
    """Raise :class:`JSONTooDeep` when ``text`` nests arrays/objects deeper than ``limit``.
    Brackets inside strings do not count; the scan runs in regex code, not per character."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                raise JSONTooDeep(f"nested deeper than {limit} levels of arrays and objects")
        else:
            depth -= 1


def strict_loads(text: str | bytes, *, max_nesting: int | None = None) -> Any:
    """``json.loads`` of standard JSON only: ``NaN``, ``Infinity`` and out-of-range numbers
    raise ``ValueError`` (as malformed JSON does); with ``max_nesting``, so does a document
    nested deeper (checked before parsing)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if max_nesting is not None:
        check_nesting(text, limit=max_nesting)
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def model_bytes(model: BaseModel, *, where: Path | None = None) -> bytes:
    # pydantic's JSON mode would quietly write NaN/Infinity in free-form fields as null:
    # look at the Python values first.
    try:
        require_finite(model.model_dump())
    except ValueError:
        raise _non_finite(where) from None
    return dump_json(model.model_dump(mode="json"), where=where)


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(path, "file is missing") from None
    except UnicodeDecodeError as exc:
        raise ManifestError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return strict_loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            path, f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:  # NaN, Infinity, 1e999: not JSON for any other reader
        raise ManifestError(path, f"malformed JSON: {exc}") from None
    except RecursionError:
        raise ManifestError(path, "malformed JSON: nested too deeply to read") from None


def validate(path: Path, data: Any, model: type[M]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        extra = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise ManifestError(path, f"{first['msg']}{extra}", field=field) from None


def load_model(path: Path, model: type[M]) -> M:
    return validate(path, read_json(path), model)


def write_model(path: Path, model: BaseModel, *, durable: bool = True) -> None:
    """Replace ``path`` with ``model`` atomically (:func:`studio.atomic.atomic_write_bytes`)."""
    atomic_write_bytes(path, model_bytes(model, where=path), durable=durable)


def create_model(path: Path, model: BaseModel) -> bool:
    """Write ``model`` at ``path`` only if the name is free; False when it was taken."""
    return exclusive_write_bytes(path, model_bytes(model, where=path))
