"""PRD §9.2's MVP loop in JupyterLab + Chromium: canvas → kernel → Dask → pipeline → take on
disk → events → canvas (issue 5 item 6)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from studio import Workspace
from tests.browser.jupyter import ARTIFACTS, Lab, open_and_run, write_notebook
from tests.browser.test_canvas import drag, handle, node

pytestmark = pytest.mark.slow


def wait_state(shot: Any, state: str, timeout: int = 120_000) -> None:
    shot.locator(f".status[data-state='{state}']").wait_for(timeout=timeout)


def test_generate_a_take_from_the_canvas(lab: Lab, page: Any, builtin_images: None) -> None:
    workspace = Workspace(lab.root / "workspace")
    project = workspace.create_project("MVP Film", quality="low")
    write_notebook(
        lab.root / "mvp.ipynb",
        f"import studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas()\ncanvas",
    )
    open_and_run(page, lab, "mvp.ipynb")
    canvas = page.locator(".studio-canvas")
    canvas.wait_for(timeout=60_000)
    canvas.locator(".palette [data-node-type='Pipeline']").click()
    canvas.locator(".palette [data-node-type='Shot']").click()
    shot, pipeline = node(page, "Shot"), node(page, "Pipeline")
    shot.wait_for()
    pipeline.wait_for()
    page.wait_for_timeout(400)
    drag(page, pipeline.locator("header"), canvas.locator(".svelte-flow__pane"))
    drag(page, handle(pipeline, "source", "pipeline"), handle(shot, "target", "pipeline"))
    page.locator(".svelte-flow__edge").first.wait_for(timeout=10_000)
    assert pipeline.locator("select[data-field='pipeline_id']").input_value() == "t2i-draft"
    prompt = shot.locator("textarea[data-field='prompt']")
    prompt.click()
    prompt.fill("a lighthouse at night, storm clouds")
    page.wait_for_timeout(800)

    # A warm draft pipeline can finish between two polls: every state the node shows is
    # recorded as the DOM changes, and "generating" must be among them.
    page.evaluate(
        """() => { window.__shownStates = [];
          new MutationObserver(() => document
            .querySelectorAll(".svelte-flow__node .status[data-state]")
            .forEach(e => window.__shownStates.push(e.dataset.state)))
          .observe(document.body, {subtree: true, childList: true, attributes: true}); }"""
    )
    shot.locator("button.generate").click()
    wait_state(shot, "success")
    shown = page.evaluate("window.__shownStates")
    assert "generating" in shown, shown  # the node showed "generating" (spinner + progress)
    thumbnail = shot.locator("img.thumbnail")
    thumbnail.wait_for(timeout=30_000)
    first_src = thumbnail.get_attribute("src")
    assert first_src and first_src.startswith("data:image/jpeg;base64,")
    folder = project.shot_path(scene=1, shot=10)
    take01 = folder / "SHOT-010_v01_take01.png"
    assert take01.stat().st_size > 0
    take01_bytes = take01.read_bytes()

    shot.locator("button.generate").click()  # again: a new take, the first untouched
    page.wait_for_function(
        "n => [...document.querySelectorAll(\"select[data-field='active_take'] option\")]"
        ".filter(o => o.value).length === n",
        arg=2,
        timeout=120_000,
    )
    take02 = folder / "SHOT-010_v01_take02.png"
    assert take02.stat().st_size > 0
    assert take01.read_bytes() == take01_bytes
    options = shot.locator("select[data-field='active_take'] option")
    listed = [options.nth(i).get_attribute("value") for i in range(options.count())]
    on_disk = sorted(p.name for p in folder.glob("SHOT-*.png"))
    assert [v for v in listed if v] == on_disk == [take01.name, take02.name]

    shot.locator("select[data-field='active_take']").select_option(take01.name)
    page.wait_for_timeout(800)
    assert project.active_take(scene=1, shot=10).name == take01.name  # type: ignore[union-attr]
    assert json.loads((folder / "active_take.json").read_text())["take"] == take01.name
    ARTIFACTS.mkdir(exist_ok=True)
    canvas.screenshot(path=str(ARTIFACTS / "generate.png"))

    # a new take is seen: the choice was not pinned, so take03 becomes active and is shown
    chosen_src = thumbnail.get_attribute("src")
    shot.locator("button.generate").click()
    take03 = folder / "SHOT-010_v01_take03.png"
    select = shot.locator("select[data-field='active_take']")
    page.wait_for_function(
        "name => document.querySelector(\"select[data-field='active_take']\")?.value === name",
        arg=take03.name,
        timeout=120_000,
    )
    page.wait_for_function(
        "src => document.querySelector('img.thumbnail')?.getAttribute('src') !== src",
        arg=chosen_src,
        timeout=30_000,
    )
    assert project.active_take(scene=1, shot=10).name == take03.name  # type: ignore[union-attr]

    # pinned, take03 stays active when take04 arrives, and a toast says take04 is there
    shot.locator("button[data-field='take_pinned']").click()
    page.wait_for_selector("button[data-field='take_pinned'][aria-pressed='true']")
    shot.locator("button.generate").click()
    toast = canvas.locator(".toast", has_text="SHOT-010_v01_take04.png")
    toast.wait_for(timeout=120_000)
    assert "pinned take SHOT-010_v01_take03.png stays active" in toast.inner_text()
    assert select.input_value() == take03.name
    assert project.active_take(scene=1, shot=10).name == take03.name  # type: ignore[union-attr]
    canvas.screenshot(path=str(ARTIFACTS / "generate-pinned.png"))
    select.select_option(take01.name)  # another choice, still pinned
    page.wait_for_timeout(800)
    assert json.loads((folder / "active_take.json").read_text())["pinned"] is True

    # a browser reload, then the cell runs again: the canvas comes back with take01 active
    open_and_run(page, lab, "mvp.ipynb")
    reloaded = page.locator(".svelte-flow__node:has([data-node-type='Shot'])").first
    reloaded.wait_for(timeout=60_000)
    select = reloaded.locator("select[data-field='active_take']")
    page.wait_for_function(
        "() => document.querySelector(\"select[data-field='active_take']\")?.value !== ''",
        timeout=30_000,
    )
    assert select.input_value() == take01.name
    pin = reloaded.locator("button[data-field='take_pinned']")
    assert pin.get_attribute("aria-pressed") == "true"
    assert len(project.jobs()) == 4
