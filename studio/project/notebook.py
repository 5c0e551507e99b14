"""The project notebook: a notebook whose first cell shows the project's canvas.

It is written and committed with a new project (its scaffold), or on demand for a project
made before that (by the lab's "Studio Project" launcher through the server), and never
overwritten: a user's notebook is theirs once it exists. It is committed without outputs,
and the lab's server strips what a run adds (:func:`without_run_state`) whenever it saves
it, so running the canvas leaves the project's working tree clean.
"""

from __future__ import annotations

import copy
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


def notebook_bytes(content: dict[str, Any]) -> bytes:
    """Pure: the notebook as Jupyter Server writes it on save (nbformat's JSON, sorted keys,
    sources split into lines, a final newline), so a save of unchanged content is no change
    to git."""
    import nbformat  # here: importing it (jsonschema's format checkers) costs ~1.5 s per kernel

    notebook = nbformat.from_dict(content)  # type: ignore[no-untyped-call]
    text: str = nbformat.writes(  # type: ignore[no-untyped-call]
        notebook, version=nbformat.NO_CONVERT
    )
    return (text if text.endswith("\n") else text + "\n").encode()


def write_canvas_notebook(*, project_root: Path, title: str) -> Path | None:
    """Write the project notebook unless a file is there (exclusively: two racing callers
    cannot both write it); its path when this call wrote it, else None."""
    target = notebook_path(project_root)
    if target.exists():
        return None
    content = canvas_notebook(project_name=project_root.name, title=title)
    return target if exclusive_write_bytes(target, notebook_bytes(content)) else None


def ensure_canvas_notebook(*, project_root: Path, title: str) -> Path:
    """The project notebook's path, writing and committing it first if it does not exist (a
    project made before the scaffold wrote it). An existing file is never touched."""
    from studio.project.repo import commit_paths

    written = write_canvas_notebook(project_root=project_root, title=title)
    if written is not None:
        commit_paths(project_root, [written], message=f"Add the canvas notebook {NOTEBOOK_FILE}")
    return notebook_path(project_root)


RUN_CELL_METADATA: Final = ("execution", "ExecuteTime")
"""Cell metadata a run writes: timings (JupyterLab's ``recordTiming``, nbclient, the
execute-time extension)."""


def is_studio_canvas_notebook(*, name: str, content: object) -> bool:
    """Pure: is this notebook (file ``name``, nbformat ``content``) the studio's project
    notebook? Its file name and the ``studio`` metadata the studio wrote say so."""
    if name != NOTEBOOK_FILE or not isinstance(content, dict):
        return False
    metadata = content.get("metadata")
    studio = metadata.get("studio") if isinstance(metadata, dict) else None
    return isinstance(studio, dict) and isinstance(studio.get("project"), str)


def without_run_state(content: dict[str, Any]) -> dict[str, Any]:
    """Pure: the notebook without what running it adds: outputs, execution counts and
    timings, the widgets' saved state, and the kernel's language details (the name stays).
    The user's own edits (cells, sources, tags) are kept."""
    stripped = copy.deepcopy(content)
    for cell in stripped.get("cells", []):
        if not isinstance(cell, dict):
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata")
        if isinstance(metadata, dict):
            for key in RUN_CELL_METADATA:
                metadata.pop(key, None)
    metadata = stripped.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("widgets", None)
        language = metadata.get("language_info")
        if isinstance(language, dict) and "name" in language:
            metadata["language_info"] = {"name": language["name"]}
    return stripped


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
