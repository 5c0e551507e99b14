"""The canvas as a new user meets it (issue 16), in a real JupyterLab + Chromium: shots get
their own numbers, refusals say why, video takes have previews, palette entries all work."""

from __future__ import annotations

from typing import Any

import pytest

from studio import Project, Workspace
from tests.browser.jupyter import ARTIFACTS, Lab, open_and_run, write_notebook
from tests.browser.test_canvas import node

pytestmark = pytest.mark.slow


def open_canvas(page: Any, lab: Lab, title: str, *, engine: bool = False) -> tuple[Project, Any]:
    """A new project's canvas in a notebook of the lab, shown in ``page``."""
    workspace = Workspace(lab.root / "workspace")
    project = workspace.create_project(title, quality="low")
    notebook = f"{project.name}.ipynb"
    write_notebook(
        lab.root / notebook,
        f"import studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas(engine={engine})\ncanvas",
    )
    open_and_run(page, lab, notebook)
    canvas = page.locator(".studio-canvas")
    canvas.wait_for(timeout=60_000)
    return project, canvas


def saved_graph(page: Any, project: Project) -> Any:
    """The kernel's graph as its autosave wrote it (the canvas file)."""
    page.wait_for_timeout(300)
    page.locator(".studio-canvas [data-save-status='saved']").wait_for(timeout=10_000)
    return project.reload_graph()


def field(node_locator: Any, name: str) -> Any:
    return node_locator.locator(f"[data-field='{name}']")


def test_two_shots_get_their_own_folders(lab: Lab, page: Any) -> None:
    project, canvas = open_canvas(page, lab, "Two Shots")
    canvas.locator(".palette [data-node-type='Shot']").click()
    node(page, "Shot").wait_for()
    canvas.locator(".palette [data-node-type='Shot']").click()
    second = node(page, "Shot", 1)
    second.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"input[data-field='shot']\")]"
        ".map(i => i.value).join() === '10,20'",
        timeout=10_000,
    )
    numbers = {(n.data["scene"], n.data["shot"]) for n in saved_graph(page, project).nodes}
    assert numbers == {(1, 10), (1, 20)}

    # giving the second shot the first one's number is refused, with a toast naming the node
    shot_field = field(second, "shot")
    shot_field.fill("10")
    shot_field.press("Tab")  # the change is sent as the field is left
    toast = canvas.locator(".toast", has_text="is taken by node")
    toast.wait_for(timeout=10_000)
    first_id = next(n.id for n in saved_graph(page, project).nodes if n.data["shot"] == 10)
    assert f"Scene 1, Shot 10 is taken by node '{first_id}'" in toast.inner_text()
    assert "shot 30 is free" in toast.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    canvas.screenshot(path=str(ARTIFACTS / "shot-number-taken.png"))
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"input[data-field='shot']\")]"
        ".map(i => i.value).join() === '10,20'",
        timeout=10_000,
    )
    assert sorted(n.data["shot"] for n in saved_graph(page, project).nodes) == [10, 20]
