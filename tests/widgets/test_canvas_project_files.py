"""The kernel's canvas tells the page where its project is (the ``project_files`` trait),
so the page can link an export through JupyterLab; a bare graph's canvas has no project."""

from __future__ import annotations

from pathlib import Path

from studio import Project
from studio.graph.graph import Graph
from studio.widgets.canvas import Canvas


def test_a_project_canvas_says_where_its_files_are(project: Project) -> None:
    canvas = Canvas(project.graph, project=project, autosave_delay=-1)
    assert canvas.project_files == {"root": str(project.path.resolve()), "home": str(Path.home())}
    assert canvas.get_state("project_files")["project_files"] == canvas.project_files


def test_a_bare_canvas_has_no_project_files() -> None:
    assert Canvas(Graph(), autosave_delay=-1).project_files == {}
