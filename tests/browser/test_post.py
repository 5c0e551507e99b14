"""The post nodes in JupyterLab + Chromium: Shot -> Video restoration, Generate on the post
node -> its progress -> its output's thumbnail and picker; an unconnected Super resolution
says what to do. The pipeline runs on the kernel's Dask cluster (in Docker when a daemon
answers), on a real video take."""

from __future__ import annotations

from typing import Any

import pytest

from studio import Workspace
from tests.browser.jupyter import ARTIFACTS, Lab, open_and_run, write_notebook
from tests.browser.test_canvas import node
from tests.project.media import video_take
from tests.runner.media import video_facts

pytestmark = pytest.mark.slow


def wait_state(locator: Any, state: str, timeout: int = 180_000) -> None:
    locator.locator(f".status[data-state='{state}']").wait_for(timeout=timeout)


def test_generate_on_video_restoration_shows_progress_then_its_output(
    lab: Lab, page: Any, builtin_images: None
) -> None:
    workspace = Workspace(lab.root / "workspace")
    project = workspace.create_project("Post Film", quality="low")
    # long enough that the restoration's progress is seen
    take = video_take(project, size="640x360", fps=24, seconds=10.0)
    graph = project.graph
    shot = graph.add_node("Shot", scene=1, shot=10, position=(0, 40))
    restore = graph.add_node("VideoRestoration", strength=0.6, position=(320, 0))
    graph.add_node("SuperResolution", position=(640, 0))
    graph.connect(shot.id, "output", restore.id, "input")
    graph.save()
    write_notebook(
        lab.root / "post.ipynb",
        f"import studio\nproject = studio.Workspace({str(workspace.path)!r})"
        f".open_project({project.name!r})\ncanvas = project.canvas(height=760)\ncanvas",
    )
    open_and_run(page, lab, "post.ipynb")
    page.locator(".studio-canvas").wait_for(timeout=60_000)
    vr, sr = node(page, "VideoRestoration"), node(page, "SuperResolution")
    vr.wait_for(timeout=30_000)
    assert vr.locator(".upstream").inner_text() == f"from {take.name}"
    assert vr.locator(".empty").inner_text() == "no output yet"
    assert (
        sr.locator(".empty").inner_text().startswith("Has nothing upstream: connect a shot first")
    )

    vr.locator("button.generate").click()
    wait_state(vr, "generating")  # spinner, progress bar
    vr.locator("button.cancel").wait_for(timeout=5_000)  # while it runs it can be stopped
    page.wait_for_function(  # the bar moves with the pipeline's progress events
        "() => Number(document.querySelector(\".svelte-flow__node-restore [role='progressbar']\")"
        "?.getAttribute('aria-valuenow')) > 0",
        timeout=120_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    vr.screenshot(path=str(ARTIFACTS / "post_generating.png"))
    wait_state(vr, "success")
    thumbnail = vr.locator("img.thumbnail")
    thumbnail.wait_for(timeout=30_000)
    assert (thumbnail.get_attribute("src") or "").startswith("data:image/jpeg;base64,")
    output = project.shot_path(scene=1, shot=10) / "SHOT-010_v01_take01.restore_v01_take01.mp4"
    assert video_facts(output)[:3] == ("h264", 640, 360)
    picker = vr.locator("select[data-field='active_output']")
    assert picker.input_value() == output.name
    assert vr.locator("select[data-field='pipeline_id']").input_value() == "restore-ffmpeg"

    sr.locator("button.generate").click()  # nothing upstream: refused, saying what to do
    wait_state(sr, "failed", timeout=30_000)
    assert "connect a shot first" in sr.locator(".status .error").inner_text()
    page.locator(".studio-canvas").screenshot(path=str(ARTIFACTS / "post_nodes.png"))
    [job] = project.jobs()
    assert (job.node_id, job.state) == (restore.id, "success")
