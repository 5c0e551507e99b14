"""The canvas notebook saved without its run: a Jupyter ``ContentsManager`` pre-save hook
that strips outputs, execution counts and the like from a studio project's ``Canvas.ipynb``
(committed without outputs), so running the canvas and saving leaves ``git status`` clean.
Any other notebook is saved as it is."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from studio.project.layout import MANIFEST_FILE
from studio.project.notebook import is_studio_canvas_notebook, without_run_state


def strip_canvas_notebook(
    *, model: dict[str, Any], path: str, contents_manager: Any, **_: Any
) -> None:
    """``pre_save_hook`` (jupyter_server calls it with these keywords): replace the content
    of a studio canvas notebook, one beside a project's manifest, with its content minus
    the run state."""
    if model.get("type") != "notebook":
        return
    name = PurePosixPath(path).name
    content = model.get("content")
    if not is_studio_canvas_notebook(name=name, content=content) or not isinstance(content, dict):
        return
    root_dir = getattr(contents_manager, "root_dir", None)
    folder = Path(root_dir, *PurePosixPath(path).parent.parts) if root_dir else None
    if folder is None or not (folder / MANIFEST_FILE).is_file():
        return  # a copy outside a project: not the studio's to change
    model["content"] = without_run_state(content)


def register_notebook_hook(serverapp: Any) -> None:
    """Register :func:`strip_canvas_notebook` on the server's contents manager."""
    serverapp.contents_manager.register_pre_save_hook(strip_canvas_notebook)
