"""A kernel restart mid-job (issue 5 item 7): the job keeps running on the cluster, and the
next kernel's canvas answers ``client:sync_request`` with the job's true state, then follows
it live to the take. Real ipykernels (jupyter_client), a real process cluster, a real
pipeline process, real git + LFS."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import LocalCluster
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

from studio import Project
from studio.engine import jobs as job_log
from studio.pipelines import builtin_pipelines_dir
from tests.engine.test_reliability import add_shot, derive, pipeline_dirs

pytestmark = pytest.mark.slow
__all__ = ["pipeline_dirs"]  # the fixture, shared with the reliability tests
TIMEOUT = 90


@pytest.fixture
def scheduler(pipeline_dirs: Path) -> Iterator[str]:
    """A team-style cluster outside any kernel (what `studio lab` starts): one worker process,
    started after ``pipeline_dirs`` set the environment it inherits."""
    with LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield str(cluster.scheduler_address)


def gated_t2i(folder: Path, gate: Path) -> str:
    """t2i-draft (tiny) that reports progress until ``gate`` exists: the job is running for
    exactly as long as the test needs, however slow the machine."""
    name = derive(builtin_pipelines_dir() / "t2i-draft", folder, "t2i-gated", width=128)
    entrypoint = folder / name / "entrypoint.py"
    first_line = "    w, h = frame_size(aspect_ratio, width)\n"
    source = entrypoint.read_text()
    assert first_line in source
    wait = (
        "    for step in range(6000):\n"
        f"        if __import__('os').path.exists({str(gate)!r}):\n"
        "            break\n"
        "        ctx.progress(min(step, 99), 200, 'waiting')\n"
        "        __import__('time').sleep(0.1)\n"
    )
    entrypoint.write_text(source.replace(first_line, wait + first_line))
    return name


def run(client: BlockingKernelClient, code: str) -> str:
    """Execute ``code`` in the kernel; its stdout, or the kernel's error."""
    out: list[str] = []
    errors: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        content = message["content"]
        if message["msg_type"] == "stream":
            out.append(content["text"])
        elif message["msg_type"] == "error":
            errors.append("\n".join(content["traceback"]))

    client.execute_interactive(code, timeout=TIMEOUT, output_hook=collect)
    assert not errors, errors[0]
    return "".join(out)


def sync_request(project: Project, node_id: str) -> str:
    """Kernel code: open the canvas as a fresh notebook would, send what the browser sends on
    reconnect, print the node's status from the answer."""
    return f"""
import json, studio
project = studio.Project({str(project.path)!r})
canvas = project.canvas()
def sync():
    canvas._on_message(None, {{"event": "client:sync_request", "payload": {{}}}}, [])
    answer = [m for m in canvas.sent if m["event"] == "server:full_sync"][-1]
    return answer["payload"]["node_status"].get({node_id!r}, {{}})
print(json.dumps(sync()))
"""


@pytest.mark.parametrize("now", [True, False], ids=["killed", "graceful"])
def test_a_kernel_restart_mid_job_then_sync_shows_the_true_state(
    project: Project, pipeline_dirs: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch,
    now: bool,
):  # fmt: skip
    """Killed (SIGKILL) or shut down cleanly (its Dask client closes and cancels its futures):
    either way the job runs on, and its log never claims otherwise."""
    gate = pipeline_dirs.parent / "release"
    node_id = add_shot(project, gated_t2i(pipeline_dirs, gate))
    assert project.graph.save()
    monkeypatch.setenv("STUDIO_SCHEDULER", scheduler)
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(project.path))
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=TIMEOUT)
        run(client, sync_request(project, node_id))  # a canvas, as the notebook shows it
        run(client, f'canvas._on_message(None, {{"event": "client:start_generation", '
                    f'"payload": {{"node_id": {node_id!r}}}}}, [])')  # fmt: skip
        deadline = time.monotonic() + TIMEOUT
        while not any(j.progress > 0 for j in job_log.jobs(project.path)):
            assert time.monotonic() < deadline, job_log.jobs(project.path)
            time.sleep(0.1)

        manager.restart_kernel(now=now)  # the kernel that submitted the job is gone
        client.wait_for_ready(timeout=TIMEOUT)
        [job] = job_log.jobs(project.path)
        assert job.state == "generating", job

        status = json.loads(run(client, sync_request(project, node_id)))
        assert (status["state"], status["task_id"]) == ("generating", job.job_id)
        assert 0 < status["progress"] < 100  # the latest progress, not a reset

        # The new kernel follows the job live to its take (it kept running on the cluster).
        gate.touch()
        final = json.loads(run(client, f"""
import time
deadline = time.monotonic() + {TIMEOUT}
while canvas.node_status.get({node_id!r}, {{}}).get("state") != "success":
    assert time.monotonic() < deadline, canvas.node_status
    time.sleep(0.1)
print(json.dumps(sync()))
"""))  # fmt: skip
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    [take] = project.takes(scene=1, shot=10)
    assert final["state"] == "success" and final["active_take"] == take.name
    assert final["takes"] == [take.name] and final["thumbnail_url"].startswith("data:image/")
    [job] = job_log.jobs(project.path)
    assert (job.state, job.take) == ("success", take.name)


def test_closing_the_client_leaves_its_running_jobs_alone(
    project: Project, pipeline_dirs: Path, scheduler: str
):
    """A kernel that shuts down cleanly closes its Dask client, which cancels its futures;
    the jobs run on (fire_and_forget), so nothing may be logged as failed."""
    from distributed import Client

    from studio.engine import Engine

    gate = pipeline_dirs.parent / "release"
    node_id = add_shot(project, gated_t2i(pipeline_dirs, gate))
    client = Client(scheduler)  # type: ignore[no-untyped-call]
    engine = Engine(client=client)
    job = engine.generate(project, node_id, quality="low")
    deadline = time.monotonic() + TIMEOUT
    while "server:task_progress" not in [m["event"] for m in job.events]:
        assert time.monotonic() < deadline, job.events
        time.sleep(0.05)
    client.close()  # type: ignore[no-untyped-call]
    time.sleep(1)  # room for a (wrong) failure report from the done-callback's thread
    [state] = job_log.jobs(project.path)
    assert state.state == "generating", state
    gate.touch()
    while (state := job_log.jobs(project.path)[0]).state == "generating":
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    assert state.state == "success" and state.take == "SHOT-010_v01_take01.png"
