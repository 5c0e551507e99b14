"""The Production Canvas in a real JupyterLab + Chromium: palette, connect, edit, refuse,
keyboard isolation, kernel restart; the Python Graph and the canvas file follow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from studio import Workspace
from tests.browser.jupyter import ARTIFACTS, Lab, open_and_run, wait_idle, write_notebook

pytestmark = pytest.mark.slow


def node(page: Any, type_name: str, index: int = 0) -> Any:
    return page.locator(f".svelte-flow__node:has([data-node-type='{type_name}'])").nth(index)


def drag(page: Any, source: Any, target: Any) -> None:
    a, b = source.bounding_box(), target.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(
            a["x"] + (b["x"] - a["x"]) * step / 10 + b["width"] / 2,
            a["y"] + (b["y"] - a["y"]) * step / 10 + b["height"] / 2,
        )
    page.mouse.up()


def handle(node_locator: Any, kind: str, name: str) -> Any:
    return node_locator.locator(f".svelte-flow__handle.{kind}[data-handleid='{name}']")


def graph_from_kernel(page: Any) -> dict[str, Any]:
    """Run the notebook's last cell (it prints the Python Graph) and read its output."""
    cell = page.locator(".jp-Notebook .jp-Cell").last
    cell.locator(".jp-InputArea").click()
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-cell')")
    output = cell.locator(".jp-OutputArea-output pre").last
    output.wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    return dict(json.loads(output.inner_text()))


def test_build_a_graph_in_the_canvas(lab: Lab, page: Any) -> None:
    workspace = Workspace(lab.root / "workspace")
    project = workspace.create_project("Browser Film")
    write_notebook(
        lab.root / "canvas.ipynb",
        f"import json, studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas()\ncanvas",
        "print(json.dumps(project.graph.to_json()))",
    )
    open_and_run(page, lab, "canvas.ipynb")
    canvas = page.locator(".studio-canvas")
    canvas.wait_for(timeout=60_000)

    # the palette lists every registered node type
    for type_name in ("Shot", "Pipeline", "Asset", "SceneGroup", "VSEAssembler"):
        assert canvas.locator(f".palette [data-node-type='{type_name}']").count() == 1

    canvas.locator(".palette [data-node-type='Pipeline']").click()
    canvas.locator(".palette [data-node-type='Shot']").click()
    shot, pipeline = node(page, "Shot"), node(page, "Pipeline")
    shot.wait_for()
    pipeline.wait_for()
    page.wait_for_timeout(400)  # the first nodes trigger a fit-view; let it settle
    # keep them apart so that dragging between sockets is unambiguous
    drag(page, pipeline.locator("header"), canvas.locator(".svelte-flow__pane"))
    drag(page, handle(pipeline, "source", "pipeline"), handle(shot, "target", "pipeline"))
    page.locator(".svelte-flow__edge").first.wait_for(timeout=10_000)

    prompt = shot.locator("textarea[data-field='prompt']")
    prompt.click()
    prompt.fill("a lighthouse in a storm, wide shot")
    page.wait_for_timeout(800)  # the field's debounce, then the round trip

    # an incompatible connection (Video|Image output into a String input) is refused
    canvas.locator(".palette [data-node-type='Shot']").click()
    second = node(page, "Shot", 1)
    second.wait_for()
    drag(page, handle(shot, "source", "output"), handle(second, "target", "prompt"))
    page.wait_for_timeout(500)
    assert page.locator(".svelte-flow__edge").count() == 1

    # keyboard shortcuts stay in the canvas: JupyterLab's "a"/"b"/"dd" do not touch cells
    cells_before = page.locator(".jp-Notebook .jp-Cell").count()
    canvas.locator(".svelte-flow__pane").click(position={"x": 30, "y": 30})
    focused = page.evaluate("document.activeElement.className")
    for key in ("a", "b", "d", "d"):
        page.keyboard.press(key)
    assert page.locator(".jp-Notebook .jp-Cell").count() == cells_before, focused

    # undo removes the second shot, redo brings it back
    page.keyboard.press("Control+z")
    page.wait_for_function("document.querySelectorAll('.svelte-flow__node').length === 2")
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function("document.querySelectorAll('.svelte-flow__node').length === 3")
    canvas.locator("button.save").click()
    page.locator("[data-save-status='saved']").wait_for(timeout=10_000)

    ARTIFACTS.mkdir(exist_ok=True)
    canvas.screenshot(path=str(ARTIFACTS / "canvas.png"))

    # the Python Graph reflects the browser's edits...
    graph = graph_from_kernel(page)
    types = sorted(n["type"] for n in graph["nodes"])
    assert types == ["Pipeline", "Shot", "Shot"]
    shots = [n for n in graph["nodes"] if n["type"] == "Shot"]
    assert any(n["data"]["prompt"] == "a lighthouse in a storm, wide shot" for n in shots)
    [edge] = graph["edges"]
    assert (edge["sourceHandle"], edge["targetHandle"]) == ("pipeline", "pipeline")
    # ...and so does the canvas file
    on_disk = json.loads(project.canvas_path.read_text())
    assert on_disk["nodes"] == graph["nodes"]
    assert on_disk["edges"] == graph["edges"]
    assert on_disk["version"] > 1

    # restart the kernel and run everything again: the graph comes back from disk
    # not awaited: the command's promise resolves only after the dialog is answered
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:restart-run-all'); }")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    wait_idle(page)
    page.locator(".studio-canvas").wait_for(timeout=60_000)
    page.wait_for_function("document.querySelectorAll('.svelte-flow__node').length === 3")
    assert page.locator(".svelte-flow__edge").count() == 1
    restored = page.locator("textarea[data-field='prompt']")
    assert "a lighthouse in a storm, wide shot" in [restored.nth(i).input_value() for i in range(2)]


def test_python_edits_appear_and_generate_without_engine_says_so(lab: Lab, page: Any) -> None:
    workspace = Workspace(lab.root / "workspace")
    project = workspace.create_project("Python Side")
    write_notebook(
        lab.root / "python_side.ipynb",
        f"import studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas(engine=False)\ncanvas",
        "shot = project.graph.add_node('Shot', prompt='from python', position=(300, 100))",
    )
    open_and_run(page, lab, "python_side.ipynb")
    shot = node(page, "Shot")
    shot.wait_for(timeout=60_000)
    assert shot.locator("textarea[data-field='prompt']").input_value() == "from python"
    page.locator(".studio-canvas .toolbar button", has_text="Fit").click()
    shot.locator("button.generate").click()
    error = shot.locator(".status .error")
    error.wait_for(timeout=10_000)
    assert "No engine configured" in error.inner_text()

    # the installed pipelines are in the palette, labelled as drafts
    draft = page.locator(".palette [data-node-type='pipeline.t2i-draft']")
    assert "draft" in draft.inner_text()
    draft.click()  # it adds the node that runs it: a Pipeline node choosing it
    added = node(page, "Pipeline")
    added.wait_for()
    assert added.locator("select[data-field='pipeline_id']").input_value() == "t2i-draft"

    # select the shot and delete it with the keyboard: the Python Graph follows
    shot.locator("header").click()
    page.keyboard.press("Delete")
    page.wait_for_function("document.querySelectorAll('.svelte-flow__node').length === 1")
    page.locator(".studio-canvas .toolbar button.save").click()
    page.locator("[data-save-status='saved']").wait_for(timeout=10_000)
    saved = json.loads(project.canvas_path.read_text())
    assert [(n["type"], n["data"]["pipeline_id"]) for n in saved["nodes"]] == [
        ("Pipeline", "t2i-draft")
    ]
