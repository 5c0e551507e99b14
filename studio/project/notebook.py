"""The project notebook: a notebook whose first cell shows the project's canvas.

It is created on demand (by the lab's "Studio Project" launcher through the server, by the
CLI or from Python), never as part of the Table 1 scaffold, and never overwritten: a user's
notebook is theirs once it exists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from studio.atomic import exclusive_write_bytes

NOTEBOOK_FILE: Final = "Canvas.ipynb"
"""The project notebook, at the project's top level (beside project.json)."""


def notebook_path(project_root: Path) -> Path:
    return project_root / NOTEBOOK_FILE


CANVAS_TAG: Final = "studio-canvas"
"""The tag of the cell that shows the canvas (the lab runs that cell, and only that one)."""
CANVAS_SOURCE: Final = "import studio\n\nproject = studio.Project('.')\nproject.canvas()"
"""The canvas cell's code. It opens the project the notebook sits in: a notebook's kernel
starts in the notebook's folder, so no absolute path is baked in (a cloned or moved project
keeps working, and the code says nothing about the machine it was made on)."""


def canvas_notebook(*, project_name: str, title: str) -> dict[str, Any]:
    """Pure: the notebook's content (nbformat 4.5). The first cell (tagged ``studio-canvas``)
    opens the project from the notebook's folder and displays the canvas."""
    code = CANVAS_SOURCE
    intro = (
        f"# {title}\n\n"
        "The Production Canvas of this project. Edits are saved to the project's canvas file; "
        "the same graph is `project.graph` in Python."
    )
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "studio-canvas",
                "metadata": {"tags": [CANVAS_TAG]},
                "outputs": [],
                "source": code,
            },
            {"cell_type": "markdown", "id": "studio-about", "metadata": {}, "source": intro},
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
            "studio": {"project": project_name},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def ensure_canvas_notebook(*, project_root: Path, title: str) -> Path:
    """The project notebook's path, writing it first if it does not exist. An existing file
    is never touched (also when two callers race: the write is exclusive)."""
    target = notebook_path(project_root)
    if not target.exists():
        content = canvas_notebook(project_name=project_root.name, title=title)
        data = (json.dumps(content, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()
        exclusive_write_bytes(target, data)
    return target


def canvas_cell_is_generated(path: Path) -> bool:
    """Is the notebook's ``studio-canvas`` cell exactly the code this module writes? Only
    then may a UI run it without the user reading it first (a cloned project's notebook is
    someone else's code)."""
    try:
        content = json.loads(path.read_bytes())
        cells = [
            cell
            for cell in content["cells"]
            if cell.get("cell_type") == "code"
            and CANVAS_TAG in (cell.get("metadata") or {}).get("tags", [])
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    if len(cells) != 1:
        return False
    source = cells[0].get("source")
    text = "".join(source) if isinstance(source, list) else source
    return text == CANVAS_SOURCE
