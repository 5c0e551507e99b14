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


def canvas_notebook(*, workspace: Path, project_name: str, title: str) -> dict[str, Any]:
    """Pure: the notebook's content (nbformat 4.5). The first cell opens the project by its
    folder name in its workspace (absolute, so the notebook works from any kernel folder)
    and displays the canvas."""
    code = "\n".join(
        [
            "import studio",
            "",
            f"project = studio.Workspace({str(workspace)!r}).open_project({project_name!r})",
            "project.canvas()",
        ]
    )
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
                "metadata": {"tags": ["studio-canvas"]},
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


def ensure_canvas_notebook(*, workspace: Path, project_root: Path, title: str) -> Path:
    """The project notebook's path, writing it first if it does not exist. An existing file
    is never touched (also when two callers race: the write is exclusive)."""
    target = notebook_path(project_root)
    if not target.exists():
        content = canvas_notebook(workspace=workspace, project_name=project_root.name, title=title)
        data = (json.dumps(content, indent=1, ensure_ascii=False) + "\n").encode()
        exclusive_write_bytes(target, data)
    return target
