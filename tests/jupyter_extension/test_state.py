"""Which workspace the server uses: STUDIO_WORKSPACE when set explicitly, else root_dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from studio_jupyter.state import choose_workspace

from studio import Workspace
from tests.conftest import git_out


def test_root_dir_unless_studio_workspace_is_set(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("STUDIO_WORKSPACE", raising=False)
    assert choose_workspace(root_dir=tmp_path) == tmp_path.resolve()
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "films"))
    assert choose_workspace(root_dir=tmp_path) == (tmp_path / "films").resolve()


@pytest.fixture
def outside(tmp_path: Path, monkeypatch) -> Workspace:
    """A workspace outside Jupyter's root_dir, set before the server starts."""
    workspace = Workspace(tmp_path / "elsewhere")
    workspace.create_project("Far Away")
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace.path))
    return workspace


async def test_a_workspace_outside_root_dir(outside: Workspace, api):
    status, body = await api("GET", "projects")
    assert status == 200
    assert [(p["id"], p["path"]) for p in body] == [("Far_Away", None)]
    _, info = await api("GET", "status")
    assert info["workspace"] == str(outside.path)
    # JupyterLab could not open a notebook there: say so, write nothing.
    status, body = await api("POST", "projects", "Far_Away", "canvas_notebook")
    assert status == 409 and "outside Jupyter's root folder" in body["message"]
    assert "root_dir" in body["hint"]
    notebook = outside.path / "Projects" / "Far_Away" / "Canvas.ipynb"  # the scaffold's
    assert git_out(notebook.parent, "status", "--porcelain") == ""  # untouched


@pytest.fixture
def inside(jp_root_dir: Path, monkeypatch) -> Workspace:
    """A workspace in a subfolder of root_dir, set before the server starts."""
    workspace = Workspace(jp_root_dir / "films")
    workspace.create_project("Close By")
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace.path))
    return workspace


async def test_a_workspace_inside_root_dir(inside: Workspace, api):
    status, body = await api("GET", "projects")
    assert status == 200
    assert [(p["id"], p["path"]) for p in body] == [("Close_By", "films/Projects/Close_By")]
    status, body = await api("POST", "projects", "Close_By", "canvas_notebook")
    assert (status, body["path"]) == (200, "films/Projects/Close_By/Canvas.ipynb")


@pytest.fixture
def empty_root(jp_root_dir: Path) -> Path:
    """A root_dir that is no workspace (a user's home, say), with a Projects/ of its own."""
    (jp_root_dir / "Projects").mkdir()
    (jp_root_dir / "notes.txt").write_text("mine")
    return jp_root_dir


async def test_loading_the_extension_writes_nothing(empty_root: Path, api):
    # (empty_root is made before the server starts: api starts it.)
    before = [Path("Projects"), Path("notes.txt")]
    assert sorted(p.relative_to(empty_root) for p in empty_root.rglob("*")) == before
    assert await api("GET", "projects") == (200, [])
    status, info = await api("GET", "status")
    assert status == 200 and info["workspace"] == str(empty_root.resolve())
    assert (await api("GET", "projects", "Anything"))[0] == 404
    assert sorted(p.relative_to(empty_root) for p in empty_root.rglob("*")) == before
    # The first project makes the folder a workspace.
    status, body = await api("POST", "projects", body={"name": "First"})
    assert status == 201 and body["path"] == "Projects/First"
    assert (empty_root / "workspace.json").is_file() and (empty_root / "Library").is_dir()
    assert [p["id"] for p in (await api("GET", "projects"))[1]] == ["First"]
