"""The Welcome notebook `studio lab` opens runs as written, top to bottom, in a workspace: its
project, its first take and its canvas (a Shot fed by a Pipeline)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio import Workspace

WELCOME = Path(__file__).resolve().parents[1] / "studio" / "notebooks" / "Welcome.ipynb"

pytestmark = pytest.mark.slow


def test_the_welcome_notebook_runs_and_shows_a_canvas(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    workspace = Workspace(tmp_path / "films")  # what `studio lab` serves, the notebook in it
    notebook_path = workspace.path / "Welcome.ipynb"
    shutil.copy(WELCOME, notebook_path)
    notebook = nbformat.read(notebook_path, as_version=4)  # type: ignore[no-untyped-call]
    text = "".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "Generate" in text and "canvas" in text.lower() and "will come later" not in text
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(workspace.path)}},
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    widget = [
        o for c in notebook.cells for o in c.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]  # fmt: skip
    assert len(widget) == 1  # the canvas
    [project] = workspace.projects()
    assert not (workspace.path / "workspace").exists()  # not a nested workspace
    graph = project.reload_graph()
    assert sorted(n.type for n in graph.nodes) == ["Pipeline", "Shot"]
    [edge] = graph.edges
    assert (edge.source_handle, edge.target_handle) == ("pipeline", "pipeline")
    assert [t.name for t in project.takes(scene=1, shot=10)] == ["SHOT-010_v01_take01.png"]
    shot = next(n for n in graph.nodes if n.type == "Shot")
    assert shot.data["shot"] == 20  # the next free number: shot 10 has the first take
