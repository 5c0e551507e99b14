"""``python -m tests.notebooks.stripped FOLDER...`` (in ``make lint``): every notebook in git
is stored without outputs or execution counts (a diff shows what changed in the code, not
what a run printed). Lists each offending notebook and exits 1."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def problems(notebook: dict[str, Any]) -> list[str]:
    """Pure: what is not stripped in a notebook's JSON, one line per cell."""
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {index} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {index} has an execution count")
    return found


def main(folders: list[str]) -> int:
    failed = False
    for folder in folders:
        for path in sorted(Path(folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            found = problems(json.loads(path.read_text(encoding="utf-8")))
            if found:
                failed = True
                print(f"{path}: not stripped ({'; '.join(found)}); clear its outputs and save")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["notebooks", "studio/notebooks"]))
