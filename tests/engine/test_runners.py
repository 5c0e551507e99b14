"""The runners of a Dask worker (studio.engine.runners): made once per worker, a manifest's
``"mode": "warm"`` served by the worker's warm pool across jobs, budgets from what the worker
declares, everything closed with the worker. Real clusters, real pipeline processes."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from studio import Project
from studio.engine import Engine, Job
from studio.engine.runners import PLUGIN_NAME
from studio.pipelines import builtin_pipelines_dir
from tests.engine.test_reliability import derive

pytestmark = pytest.mark.slow
TIMEOUT = 90


@pytest.fixture
def pipeline_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "pipelines"
    folder.mkdir()
    monkeypatch.setenv("STUDIO_RUNNER", "process")  # no Docker daemon needed
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder)]))
    return folder


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    # One single-threaded worker declaring 24 GB of VRAM and 4 GB of memory.
    with LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=":0",
        resources={"VRAM": 24},
        memory_limit="4GiB",
    ) as running:
        yield running


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster) as c:  # type: ignore[no-untyped-call]
        yield c


def pid_reporting(folder: Path, name: str, *, mode: str) -> str:
    """t2i-draft (small frames) whose first progress message names the pid serving it."""
    derived = derive(builtin_pipelines_dir() / "t2i-draft", folder, name, width=96, mode=mode)
    entrypoint = folder / derived / "entrypoint.py"
    first = '    ctx.progress(1, 5, "sky")\n'
    source = entrypoint.read_text()
    assert first in source
    report = "    ctx.progress(0, 5, f\"pid {__import__('os').getpid()}\")\n"
    entrypoint.write_text(source.replace(first, report + first))
    return derived


def shot_with(project: Project, pipeline: str) -> str:
    graph = project.graph
    shot = graph.add_node("Shot", prompt="a door", scene=1, shot=10)
    node = graph.add_node("Pipeline", pipeline_id=pipeline)
    graph.connect(node.id, "pipeline", shot.id, "pipeline")
    return shot.id


def served_by(job: Job) -> int:
    steps = [m["payload"].get("step", "") for m in job.events]
    return int(next(s for s in steps if s.startswith("pid ")).split()[1])


def test_a_warm_pipeline_is_served_by_one_warm_worker_across_jobs(
    project: Project, pipeline_dirs: Path, cluster: LocalCluster, client: Client
):
    warm = shot_with(project, pid_reporting(pipeline_dirs, "t2i-warm", mode="warm"))
    engine = Engine(client=client)
    jobs = []
    for _ in range(3):
        job = engine.generate(project, warm)
        job.result(timeout=TIMEOUT)
        jobs.append(job)
    pids = {served_by(job) for job in jobs}
    assert len(pids) == 1, pids  # one setup, three jobs
    [pid] = pids
    assert pid != os.getpid()
    assert [t.name for t in project.takes(scene=1, shot=10)] == [
        "SHOT-010_v01_take01.png", "SHOT-010_v01_take02.png", "SHOT-010_v01_take03.png",
    ]  # fmt: skip
    provenance = project.takes(scene=1, shot=10)[0].provenance
    assert provenance is not None and (provenance.model_extra or {})["runner"] == "warm-process"

    # The pool lives in the worker's plugin, with the worker's declared budgets ...
    def pool_facts(dask_worker) -> dict[str, object]:
        runners = dask_worker.plugins[PLUGIN_NAME].runners
        warm_pool = runners.warm
        return {
            "memory": warm_pool.memory_budget_gb,
            "vram": warm_pool.vram_budget_gb,
            "starts": warm_pool.starts,
            "workers": warm_pool.workers(),
        }

    [facts] = client.run(pool_facts).values()
    assert facts == {"memory": 4.0, "vram": 24.0, "starts": 1, "workers": ["t2i-warm@standard"]}
    # ... and is closed with the worker: the warm process ends.
    client.close()  # type: ignore[no-untyped-call]
    cluster.close()
    with pytest.raises(ProcessLookupError):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            _reap(pid)
            time.sleep(0.1)


def _reap(pid: int) -> None:
    # The warm process is a child of this process (threads cluster): collect its exit status.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_a_one_shot_pipeline_gets_a_fresh_process_per_job(
    project: Project, pipeline_dirs: Path, client: Client
):
    one_shot = shot_with(project, pid_reporting(pipeline_dirs, "t2i-once", mode="one-shot"))
    engine = Engine(client=client)
    jobs = [engine.generate(project, one_shot) for _ in range(2)]
    for job in jobs:
        job.result(timeout=TIMEOUT)
    assert served_by(jobs[0]) != served_by(jobs[1])
    provenance = project.takes(scene=1, shot=10)[0].provenance
    assert provenance is not None and (provenance.model_extra or {})["runner"] == "process"

    def made(dask_worker) -> bool:
        # the one-shot runner is made once and kept; no warm pool was needed
        runners = dask_worker.plugins[PLUGIN_NAME].runners
        return runners._one_shot is not None and runners._warm is None

    assert all(client.run(made).values())
