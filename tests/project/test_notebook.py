"""The project notebook: built purely, written once, never overwritten."""

from __future__ import annotations

import json

from studio import Project, Workspace
from studio.project.notebook import NOTEBOOK_FILE, canvas_notebook, ensure_canvas_notebook


def test_the_first_cell_opens_the_project_and_shows_its_canvas(workspace: Workspace):
    content = canvas_notebook(workspace=workspace.path, project_name="Night_Market", title="N")
    assert (content["nbformat"], content["nbformat_minor"]) == (4, 5)
    first = content["cells"][0]
    assert first["cell_type"] == "code" and first["outputs"] == []
    assert first["source"] == (
        "import studio\n\n"
        f"project = studio.Workspace({str(workspace.path)!r}).open_project('Night_Market')\n"
        "project.canvas()"
    )
    assert content["metadata"]["kernelspec"]["name"] == "python3"


def test_written_once_and_never_overwritten(workspace: Workspace, project: Project):
    path = ensure_canvas_notebook(
        workspace=workspace.path, project_root=project.path, title=project.title
    )
    assert path == project.path / NOTEBOOK_FILE
    notebook = json.loads(path.read_text())
    assert f"open_project({project.name!r})" in notebook["cells"][0]["source"]
    path.write_text("mine")
    again = ensure_canvas_notebook(
        workspace=workspace.path, project_root=project.path, title=project.title
    )
    assert again == path and path.read_text() == "mine"


def test_the_notebook_runs_and_shows_the_canvas(workspace: Workspace, project: Project):
    """Execute the cell for real (the code a user gets must work)."""
    content = canvas_notebook(workspace=workspace.path, project_name=project.name, title="t")
    namespace: dict[str, object] = {}
    source = content["cells"][0]["source"].replace("project.canvas()", "canvas = project.canvas()")
    exec(compile(source, "Canvas.ipynb", "exec"), namespace)  # noqa: S102 - our own cell
    canvas = namespace["canvas"]
    assert type(canvas).__name__ == "Canvas"
    assert namespace["project"].path == project.path  # type: ignore[attr-defined]
    canvas.close()  # type: ignore[attr-defined]
