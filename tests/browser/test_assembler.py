"""The Assembler node in a real JupyterLab + Chromium: its clip list follows the Clips edges,
a drag (or the ↑/↓ buttons) writes ``order`` to the graph and the canvas file, a clip's
settings are checked before they are written, and Render reaches the studio service, whose
answer shows on the node (issue 13 item 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from studio import Project, Workspace
from studio.project.layout import EXPORTS_DIR
from tests.browser.jupyter import (
    ARTIFACTS,
    Lab,
    open_and_run,
    run_in_kernel,
    wait_idle,
    write_notebook,
)
from tests.engine.films import add_take, make_clip, probe

pytestmark = pytest.mark.slow


def saved_assembler(project: Project) -> dict[str, Any]:
    """The Assembler's fields as the canvas file on disk holds them."""
    nodes = json.loads(project.canvas_path.read_text())["nodes"]
    return dict(next(n for n in nodes if n["id"] == "cut")["data"])


def wait_saved(page: Any, project: Project, key: str, value: Any) -> dict[str, Any]:
    """Until the canvas file holds ``value`` at the Assembler's ``key`` (autosave)."""
    for _ in range(60):
        data = saved_assembler(project)
        if data.get(key) == value:
            return data
        page.wait_for_timeout(250)
    raise AssertionError(f"the canvas file's {key} is {saved_assembler(project).get(key)!r}")


def kernel_field(page: Any, key: str) -> Any:
    """The Assembler's field as the kernel's Graph (the source of truth) has it."""
    code = f"import json\nprint(json.dumps(canvas.graph_object.node('cut').data.get({key!r})))"
    return json.loads(run_in_kernel(page, code))


def clip_names(assembler: Any) -> list[str]:
    return [n.strip() for n in assembler.locator("[data-clip] .name").all_inner_texts()]


def test_order_trim_and_render_from_the_assembler(lab: Lab, page: Any) -> None:
    workspace = Workspace(lab.root / "workspace")
    project = workspace.create_project("Assembly Film")
    graph = project.graph
    graph.add_node("Shot", id="a", scene=1, shot=10, prompt="harbour at dawn", position=(0, 0))
    graph.add_node("Shot", id="b", scene=1, shot=20, prompt="market at noon", position=(300, 0))
    graph.add_node("VSEAssembler", id="cut", position=(620, 40))
    graph.connect("a", "output", "cut", "clips", id="e-a")
    graph.connect("b", "output", "cut", "clips", id="e-b")
    graph.add_node(
        "Audio", id="score", file="01_Assets/Source_Media/score.wav", position=(300, 560)
    )
    graph.connect("score", "audio", "cut", "music", id="e-score")
    graph.save()
    write_notebook(
        lab.root / "assemble.ipynb",
        f"import studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas(engine=False)\ncanvas",
    )
    open_and_run(page, lab, "assemble.ipynb")
    page.wait_for_function("document.querySelectorAll('.svelte-flow__node').length === 4")
    wait_idle(page)
    page.wait_for_timeout(500)  # the fit view after the first paint
    assembler = page.locator(".svelte-flow__node[data-id='cut']")
    rows = assembler.locator("li.group")

    # the list is the Clips edges, in the order they were made (no order yet)
    assert clip_names(assembler) == ["SHOT-010", "SHOT-020"]
    assert assembler.locator("[data-clip='a'] .take").inner_text().strip() == "sc 1 · no take"
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".studio-canvas").screenshot(path=str(ARTIFACTS / "assembler-canvas.png"))

    # drag SHOT-010's grip below SHOT-020: the graph's order changes, and the file's
    first, second = rows.nth(0), rows.nth(1)
    box = second.bounding_box()
    grip = first.locator("button.grip")
    start = grip.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(
            start["x"] + 4, start["y"] + (box["y"] + box["height"] - start["y"]) * step / 8
        )
        if step == 6:
            assembler.screenshot(path=str(ARTIFACTS / "assembler-dragging.png"))
    page.mouse.up()
    page.wait_for_function(
        "() => [...document.querySelectorAll(\".svelte-flow__node[data-id='cut'] [data-clip]\")]"
        ".map((el) => el.dataset.clip).join() === 'b,a'",
        timeout=10_000,
    )
    assert kernel_field(page, "order") == ["b", "a"]
    wait_saved(page, project, "order", ["b", "a"])
    assert json.loads(run_in_kernel(page, "print(json.dumps(canvas.graph_object.node('cut')"
                                          ".position))")) == {"x": 620.0, "y": 40.0}  # fmt: skip

    # the keyboard way: the first row's ↓ puts it back
    move_down = assembler.get_by_role("button", name="Move SHOT-020 down")
    move_down.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert clip_names(assembler) == ["SHOT-010", "SHOT-020"]
    wait_saved(page, project, "order", ["a", "b"])
    grip = assembler.get_by_role("button", name="Drag SHOT-010 to reorder (or ↑/↓ keys)")
    grip.focus()
    page.keyboard.press("ArrowDown")
    wait_saved(page, project, "order", ["b", "a"])
    page.keyboard.press("ArrowUp")  # the grip kept the focus as its row moved
    wait_saved(page, project, "order", ["a", "b"])
    assert clip_names(assembler) == ["SHOT-010", "SHOT-020"]

    # a clip's settings: a timecode that does not exist at 24 fps is refused on the spot
    assembler.get_by_role("button", name="Edit the settings of SHOT-010").click()
    trim_in = assembler.locator("[data-clip='a'] input[data-setting='trim_in']")
    trim_in.fill("00:00:01:30")
    problem = assembler.locator("[data-clip='a'] .frame.invalid .problem")
    problem.wait_for(timeout=5_000)
    assert "does not exist at 24 fps" in problem.inner_text()
    trim_in.blur()
    page.wait_for_timeout(600)
    assert not kernel_field(page, "clip_settings")  # nothing invalid was written
    trim_in.fill("00:00:01:12")
    trim_out = assembler.locator("[data-clip='a'] input[data-setting='trim_out']")
    trim_out.fill("72")
    trim_out.blur()
    overlay = assembler.locator("[data-clip='a'] input[data-setting='overlay_text']")
    overlay.fill("Harbour, 6 a.m.")
    overlay.blur()
    assembler.locator("[data-clip='a'] select[data-setting='overlay_style']").select_option(
        "lower_third"
    )
    assembler.locator("[data-clip='a'] select[data-setting='transition']").select_option("dissolve")
    expected = {
        "a": {
            "trim_in": "00:00:01:12",
            "trim_out": 72,
            "overlay": {"text": "Harbour, 6 a.m.", "style": "lower_third"},
            "transition": {"kind": "dissolve", "frames": 12},
        }
    }
    saved = wait_saved(page, project, "clip_settings", expected)
    assert saved["order"] == ["a", "b"]
    assert kernel_field(page, "clip_settings") == expected
    assert assembler.locator("[data-clip='a'] .summary").inner_text().strip() == (
        "00:00:01:12\u201372 \u00b7 \u201cHarbour, 6 a.m.\u201d \u00b7 dissolve 12"
    )
    # as a user reads it: zoomed in on the node (the wheel over its header)
    header = assembler.locator("header").bounding_box()
    page.mouse.move(header["x"] + header["width"] / 2, header["y"] + header["height"] / 2)
    page.mouse.wheel(0, -100)
    page.wait_for_timeout(400)
    assembler.screenshot(path=str(ARTIFACTS / "assembler-settings.png"))
    assembler.get_by_role("button", name="Hide the settings of SHOT-010").click()
    page.locator(".studio-canvas").locator(".svelte-flow__controls-fitview").click()
    page.wait_for_timeout(500)

    # a music bed's level and track
    bed = assembler.locator("[data-music='score']")
    assert bed.locator(".name").inner_text().strip() == "\u266a score.wav"
    bed.locator("select[data-setting='track']").select_option("A2")
    level = bed.locator("input[data-setting='level_db']")
    level.fill("-30")
    level.blur()
    wait_saved(page, project, "music_settings", {"score": {"track": "A2", "level_db": -30}})

    # Render: the event reaches the studio service, and its answer is on the node, in words
    assembler.locator("button.render").click()
    answer = assembler.locator(".status[data-state='failed'] .error, [data-notice]").first
    answer.wait_for(timeout=60_000)
    message = answer.inner_text().strip()
    assert len(message) > 20, f"a refusal without a message: {message!r}"
    answered = json.loads(run_in_kernel(page, (
        "import json\nprint(json.dumps([m['payload'] for m in canvas.sent"
        " if m['event'] in ('server:task_failed', 'server:notification')"
        " and m['payload'].get('node_id') == 'cut']))"
    )))  # fmt: skip
    assert answered, "the studio service did not answer the render"
    assert any(a.get("error", a.get("message")) in message for a in answered), (message, answered)
    assembler.screenshot(path=str(ARTIFACTS / "assembler-render.png"))
    page.locator(".studio-canvas").screenshot(path=str(ARTIFACTS / "assembler-canvas-after.png"))


def test_render_from_the_canvas_runs_the_post_step_then_plays_the_export(
    lab: Lab, page: Any, builtin_images: None, tmp_path: Path
) -> None:
    """The whole chain from the canvas (issue 13 item 7): Shot -> Video restoration ->
    Assembler <- Shot, Render -> the render waits for the restoration (queued, saying so),
    which runs in its pipeline -> the render's progress -> the node plays the real export
    from 06_Exports, and its EDL / OTIO / FCP XML links serve the files written."""
    workspace = Workspace(lab.root / "workspace")
    project = workspace.create_project("Harbour Cut", quality="low")
    add_take(project, shot=10, source=make_clip(tmp_path / "a.mp4", seconds=2))
    add_take(project, shot=20, source=make_clip(tmp_path / "b.mp4", seconds=2,
                                                pattern="smptebars", tone=False))  # fmt: skip
    graph = project.graph
    graph.add_node("Shot", id="a", scene=1, shot=10, position=(0, 0))
    graph.add_node("VideoRestoration", id="restore", strength=0.5, position=(320, 0))
    graph.add_node("Shot", id="b", scene=1, shot=20, position=(0, 560))
    graph.add_node("VSEAssembler", id="cut", frame_rate="24", resolution="480p",
                   position=(640, 120))  # fmt: skip
    graph.connect("a", "output", "restore", "input")
    graph.connect("restore", "output", "cut", "clips")
    graph.connect("b", "output", "cut", "clips")
    graph.save()
    write_notebook(
        lab.root / "cut.ipynb",
        f"import studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas(height=760)\ncanvas",
    )
    open_and_run(page, lab, "cut.ipynb")
    assembler = page.locator(".svelte-flow__node[data-id='cut']")
    restore = page.locator(".svelte-flow__node[data-id='restore']")
    assembler.wait_for(timeout=60_000)
    wait_idle(page)
    assert clip_names(assembler) == ["SHOT-010", "SHOT-020"]  # the restored shot, the other
    assert "→" in assembler.locator("[data-clip] .posts").first.inner_text()  # via restoration

    # Every state and step the two nodes show is recorded as the DOM changes.
    page.evaluate(
        """() => { window.__shown = [];
          new MutationObserver(() => document
            .querySelectorAll(".svelte-flow__node[data-id='cut'] .status[data-state],"
              + " .svelte-flow__node[data-id='restore'] .status[data-state]")
            .forEach(e => window.__shown.push([e.closest('.svelte-flow__node').dataset.id,
              e.dataset.state, e.querySelector('.step')?.textContent ?? ''])))
          .observe(document.body, {subtree: true, childList: true, attributes: true,
                                   characterData: true}); }"""
    )
    assembler.locator("button.render").click()
    assembler.locator("button.cancel").wait_for(timeout=60_000)  # a render can be stopped
    assembler.locator(".status[data-state='success']").wait_for(timeout=300_000)
    shown = [tuple(s) for s in page.evaluate("window.__shown")]
    # "Starting the generation engine" was an info notice: the job's own states replaced it
    assert assembler.locator("[data-notice]").count() == 0, assembler.inner_text()
    waiting = ("cut", "queued", "waiting for VideoRestoration 'restore' to run first")
    assert waiting in shown, shown
    assert ("restore", "success", "") in shown, shown
    rendering = [s for s in shown if s[:2] == ("cut", "generating")]
    assert any(step.startswith("rendering frame") for _, _, step in rendering), shown
    assert shown.index(waiting) < shown.index(("restore", "success", "")), shown

    # the node plays the export, a real H.264 file of the whole cut
    export = project.path / EXPORTS_DIR / "Harbour_Cut_v001.mp4"
    facts = probe(export)
    assert facts["frames"] == 96 and facts["codec"] == "h264", facts
    video = assembler.locator("video.player")
    video.wait_for(timeout=10_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('video.player');"
        " return v && (v.readyState >= 1 || v.error); }",
        timeout=20_000,
    )
    playable = page.evaluate(
        "() => { const v = document.querySelector('video.player');"
        " return { error: v.error && v.error.code, duration: v.duration,"
        " width: v.videoWidth, src: v.currentSrc }; }"
    )
    assert playable["error"] is None, playable
    assert abs(playable["duration"] - 4.0) < 0.1, playable
    assert playable["width"] == facts["size"][0], playable
    assert "/files/workspace/Projects/" in playable["src"], playable
    restored = "SHOT-010_v01_take01.restore_v01_take01.mp4"
    assert (project.shot_path(scene=1, shot=10) / restored).is_file()
    assert restore.locator("select[data-field='active_output']").input_value() == restored

    # the edit's files, linked on the node, are the files written (and name the restoration)
    links = assembler.locator(".files a")
    assert links.all_inner_texts() == ["MP4", "EDL", "OTIO", "FCP XML"]
    edits = project.path / "04_Project_Files/EDLs"
    for index, suffix in enumerate([".edl", ".otio", ".xml"]):
        href = links.nth(index + 1).get_attribute("href")
        body = page.evaluate("async (url) => (await fetch(url)).text()", href)
        assert body == (edits / f"Harbour_Cut_v001{suffix}").read_text(), (suffix, href)
    assert f"CLIP NAME:  {restored}" in (edits / "Harbour_Cut_v001.edl").read_text()
    ARTIFACTS.mkdir(exist_ok=True)
    assembler.screenshot(path=str(ARTIFACTS / "assembler-export.png"))
    page.locator(".studio-canvas").screenshot(path=str(ARTIFACTS / "assembler-rendered.png"))

    # a notification naming the node is shown on it, until dismissed
    run_in_kernel(page, (
        "canvas.emit('server:notification', level='warning', node_id='cut', "
        "message='Shot a has no active take: generate it first')"
    ))  # fmt: skip
    notice = assembler.locator("[data-notice]")
    notice.wait_for(timeout=10_000)
    assert "generate it first" in notice.inner_text()
    notice.get_by_role("button", name="Dismiss").click()
    notice.wait_for(state="detached", timeout=5_000)
