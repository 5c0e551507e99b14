"""The Queue view of the Studio side panel in a real JupyterLab + Chromium, against the real
server extension and a real Dask cluster (one single-threaded worker): a sweep's four jobs
(the tests' misbehaving pipeline, sleeping) are listed, the queue is paused, the last job is
moved to the front, the queue resumed, one job canceled; the moved job starts next."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from distributed import Client, LocalCluster

from studio import Project, Workspace
from studio.engine import Engine
from studio.engine import jobs as job_log
from studio.sweeps import start_sweep
from tests.browser.jupyter import ARTIFACTS, Lab, chromium_problem, running_lab
from tests.browser.test_lab_extension import open_lab, studio_panel
from tests.conftest import require_or_skip
from tests.runner.media import MISBEHAVE

pytestmark = pytest.mark.slow
PIPELINE_DIRS = json.dumps([str(MISBEHAVE.parent)])


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    # In this process (threads), reachable over TCP by the lab's server.
    with LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
        host="127.0.0.1", dashboard_address=":0",
    ) as local:  # fmt: skip
        yield local


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Lab]:
    problem = chromium_problem()
    if problem:
        require_or_skip("BROWSER", problem)
    root = tmp_path_factory.mktemp("queue-workspace")
    Workspace(root)
    home = tmp_path_factory.mktemp("queue-home")
    env = {"STUDIO_SCHEDULER": cluster.scheduler_address, "STUDIO_PIPELINE_DIRS": PIPELINE_DIRS}
    with running_lab(root, home, env=env) as running:
        yield running


def test_queue_view_pause_move_resume_cancel(
    lab: Lab, page: Any, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_RUNNER", "process")  # the worker runs in this process
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", PIPELINE_DIRS)
    project = Workspace(lab.root).create_project("Queue Film", quality="low")
    node = project.graph.add_node("Shot", prompt="x", scene=5, shot=10)
    pipe = project.graph.add_node("Pipeline", pipeline_id="misbehave")
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    project.graph.save()
    seconds = [8.0, 30.0, 30.0, 30.0]
    with Client(cluster) as client:  # type: ignore[no-untyped-call]
        engine = Engine(client=client)
        sweep = start_sweep(project, node.id, engine=engine,
                            params={"mode": ["sleep"], "seconds": seconds})  # fmt: skip
        try:
            run_queue_view(lab, page, project, [j for j in sweep.job_ids if j])
        finally:
            sweep.cancel()  # nothing left sleeping on the module's worker
            sweep.wait(timeout=30)


def run_queue_view(lab: Lab, page: Any, project: Project, jobs: list[str]) -> None:
    first, second, third, fourth = jobs
    open_lab(page, lab)
    panel = studio_panel(page)
    panel.locator(f".studio-project[data-project-id='{project.name}'] .studio-project-name").click()
    queue = panel.locator(".studio-queue")
    rows = queue.locator(".studio-queue-job")
    running = queue.locator(f".studio-queue-job[data-job-id='{first}'][data-phase='running']")
    running.wait_for(timeout=30_000)  # polled: the first cell started meanwhile
    assert rows.count() == 4
    assert queue.locator(".studio-queue-job[data-phase='queued']").count() == 3
    assert queue.locator(".studio-queue-sweep").first.inner_text().strip().startswith("· sweep")
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "queue-view-listed.png"))

    queue.locator(".studio-queue-pause").click()
    queue.locator(".studio-queue-state[data-paused='true']").wait_for(timeout=10_000)
    assert "Queue paused" in queue.locator(".studio-queue-message").inner_text()
    queue.locator(f".studio-queue-job[data-job-id='{fourth}'] .studio-queue-move").click()
    queue.locator(".studio-queue-message", has_text="moved to the front").wait_for(timeout=10_000)
    order = [rows.nth(i).get_attribute("data-job-id") for i in range(4)]
    assert order == [first, fourth, second, third]
    assert "moved to front" in rows.nth(1).inner_text()
    panel.screenshot(path=str(ARTIFACTS / "queue-view-paused-moved.png"))

    queue.locator(".studio-queue-resume").click()
    queue.locator(".studio-queue-state[data-paused='false']").wait_for(timeout=10_000)
    queue.locator(f".studio-queue-job[data-job-id='{third}'] .studio-queue-cancel").click()
    queue.locator(".studio-queue-message", has_text="will not start").wait_for(timeout=10_000)
    assert "cancel requested" in queue.locator(f"[data-job-id='{third}']").inner_text()
    # A canceled job will not start: moving it would do nothing, so the button says so.
    assert queue.locator(f"[data-job-id='{third}'] .studio-queue-move").is_disabled()
    # The first cell ends after its 8 s; the one moved to the front starts next.
    queue.locator(f".studio-queue-job[data-job-id='{fourth}'][data-phase='running']").wait_for(
        timeout=40_000
    )
    states = job_log.snapshot(project.path).jobs
    assert states[second].state == "queued" and states[first].finished
    panel.screenshot(path=str(ARTIFACTS / "queue-view-moved-running.png"))

    queue.locator(f".studio-queue-job[data-job-id='{fourth}'] .studio-queue-cancel-sweep").click()
    queue.locator(".studio-queue-message", has_text="canceled").wait_for(timeout=10_000)
    deadline = time.monotonic() + 30
    while queue.locator(".studio-queue-job[data-phase='finished']").count() < 4:
        assert time.monotonic() < deadline, "every job of the sweep ends"
        time.sleep(0.2)
    # The first cell failed (its text output is refused at commit): why is on its row.
    error = queue.locator(f".studio-queue-job[data-job-id='{first}'] .studio-queue-error")
    assert "refusing" in error.inner_text() and error.is_visible()
    panel.screenshot(path=str(ARTIFACTS / "queue-view-sweep-canceled.png"))
