"""Local clusters as ``studio`` starts them: declared VRAM, process workers, GPU submits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from distributed import Client

from studio import Project
from studio.engine import Engine
from studio.engine.cluster import cpu_slots, dashboard_html, local_cluster, worker_vram
from studio.pipelines import builtin_pipelines_dir

pytestmark = pytest.mark.slow
TIMEOUT = 60


def shot_with(project: Project, pipeline_id: str) -> str:
    node = project.graph.add_node("Shot", prompt="neon rain", scene=1, shot=10, seed=1)
    pipe = project.graph.add_node("Pipeline", pipeline_id=pipeline_id)
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    return str(node.id)


def test_process_workers_make_a_take(project: Project, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STUDIO_RUNNER", "process")  # inherited by the worker processes
    with (
        local_cluster(n_workers=1, vram_gb=[], processes=True) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]  # distributed is untyped
    ):
        assert worker_vram(client) == [0.0]  # no GPU: a CPU worker declaring no VRAM
        assert cpu_slots(client) == 1  # ... but a CPU slot, for renders
        assert "Dask dashboard" in dashboard_html(client)
        take = Engine(client=client).generate(project, shot_with(project, "t2i-draft"))
        assert take.result(timeout=TIMEOUT).name == "SHOT-010_v01_take01.png"


def test_gpu_work_is_submitted_with_its_vram(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # A pipeline declaring 8 GB at "low", on workers declaring a 16 GB GPU: it is submitted
    # with resources={"VRAM": 8} and runs (the draft code itself needs no GPU).
    folder = tmp_path / "pipelines" / "gpu-frame"
    shutil.copytree(builtin_pipelines_dir() / "t2i-draft", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(id="gpu-frame", resources={"low": {"vram_gb": 8}})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder.parent)]))
    monkeypatch.setenv("STUDIO_RUNNER", "process")
    with (
        local_cluster(vram_gb=[16.0], processes=False, dashboard=False) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        client.wait_for_workers(2, timeout=30)
        assert sorted(worker_vram(client)) == [0.0, 16.0]  # the GPU's worker, and a CPU one
        assert cpu_slots(client) == 1
        job = Engine(client=client).generate(
            project, shot_with(project, "gpu-frame"), quality="low"
        )
        assert job.decision.vram_gb == 8
        assert job.result(timeout=TIMEOUT).ready
        [task] = [t for t in client.run_on_scheduler(_resource_restrictions).items()]
        assert task[1] == {"VRAM": 8}


def _resource_restrictions(dask_scheduler) -> dict[str, dict[str, float]]:
    return {
        str(key): dict(ts.resource_restrictions or {})
        for key, ts in dask_scheduler.tasks.items()
        if str(key).startswith("execute_shot_node")
    }
