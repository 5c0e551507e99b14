"""Warm mode through local processes and containers: one setup for many jobs, cancel,
crash recovery, LRU eviction under the memory budget."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from studio.runner.base import create_job
from studio.runner.contract import ErrorCode
from studio.runner.warm import Cost, WarmRunner, eviction_order, fits

pytestmark = pytest.mark.slow


@pytest.fixture(params=["process", "docker"])
def warm(request, misbehave):
    if request.param == "docker":
        from studio.runner.docker import DockerRunner

        request.getfixturevalue("build_pipeline_image")(misbehave)
        docker = DockerRunner(client=request.getfixturevalue("docker_client"))
        runner = WarmRunner("docker", docker=docker, grace_s=2)
    else:
        runner = WarmRunner("process", grace_s=2)
    yield runner
    runner.close()
    if request.param == "docker":
        assert containers_left(docker) == []


def run(runner, pipeline, tmp_path: Path, name: str, **inputs):
    quality = inputs.pop("quality", "low")
    job = create_job(pipeline, inputs, job_dir=tmp_path / name, quality=quality)
    return job, runner.run(
        pipeline, job, **({"timeout_s": inputs["timeout"]} if "timeout" in inputs else {})
    )


def containers_left(docker) -> list[Any]:
    label = f"studio.owner={docker.owner}"
    return list(
        docker.client.containers.list(all=True, filters={"label": label}, ignore_removed=True)
    )


def payload(job: Path, result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((job / result.outputs["result"]).read_text())
    return data


def test_ten_jobs_one_setup(warm, misbehave, tmp_path: Path, request):
    tokens = set()
    for i in range(10):
        job, result = run(warm, misbehave, tmp_path, f"j{i}", mode="ok", text=str(i))
        assert result.ok, result.error
        data = payload(job, result)
        assert data["text"] == str(i)
        tokens.add(data["setup"])
    assert warm.starts == 1 and len(tokens) == 1
    assert warm.workers() == ["misbehave@low"]
    if warm.backend == "docker":  # the image the worker's container runs
        image = request.getfixturevalue("docker_client").images.get(misbehave.manifest.image_name)
        assert result.image_digest == image.id and image.id.startswith("sha256:")
    else:  # a local process has no image
        assert result.image_digest is None


def test_failures_keep_the_worker(warm, misbehave, tmp_path: Path):
    _, failed = run(warm, misbehave, tmp_path, "fail", mode="fail")
    assert failed.error is not None and failed.error.code == ErrorCode.MODEL_ERROR
    _, ok = run(warm, misbehave, tmp_path, "ok", mode="ok")
    assert ok.ok and warm.starts == 1


def test_crash_fails_the_job_and_restarts_the_worker(warm, misbehave, tmp_path: Path):
    first, before = run(warm, misbehave, tmp_path, "before", mode="ok")
    _, crashed = run(warm, misbehave, tmp_path, "crash", mode="exit")
    assert crashed.error is not None and crashed.error.code == ErrorCode.MODEL_ERROR
    assert "crashed (exit code 3)" in crashed.error.message
    after_job, after = run(warm, misbehave, tmp_path, "after", mode="ok")
    assert after.ok and warm.starts == 2
    assert payload(after_job, after)["setup"] != payload(first, before)["setup"]


def test_a_crash_after_the_pipelines_own_report_keeps_the_report(warm, misbehave, tmp_path):
    _, crashed = run(warm, misbehave, tmp_path, "crash", mode="crash-after-error")
    assert crashed.error is not None and crashed.error.code == ErrorCode.OOM, crashed.error
    assert crashed.error.message.startswith("CUDA out of memory (2.00 GiB)")
    assert "then crashed: SIGSEGV" in crashed.error.message
    _, after = run(warm, misbehave, tmp_path, "after", mode="ok")
    assert after.ok and warm.starts == 2


def test_cooperative_cancel_keeps_the_worker(warm, misbehave, tmp_path: Path):
    job = create_job(misbehave, {"mode": "sleep", "seconds": 60}, job_dir=tmp_path / "long")
    cancel, progressed = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: outcome.update(
            r=warm.run(misbehave, job, cancel=cancel,
                       on_event=lambda e: progressed.set() if e.type == "progress" else None)
        )
    )  # fmt: skip
    thread.start()
    assert progressed.wait(30)
    started = time.monotonic()
    cancel.set()
    thread.join(30)
    assert outcome["r"].error.code == ErrorCode.CANCELED
    assert time.monotonic() - started < 2  # cooperative: no grace period needed
    _, ok = run(warm, misbehave, tmp_path, "next", mode="ok")
    assert ok.ok and warm.starts == 1


def test_stubborn_job_kills_the_worker_after_grace(warm, misbehave, tmp_path: Path):
    job = create_job(misbehave, {"mode": "stubborn", "seconds": 60}, job_dir=tmp_path / "stub")
    result = warm.run(misbehave, job, timeout_s=0.5)
    assert result.error is not None and result.error.code == ErrorCode.TIMEOUT
    _, ok = run(warm, misbehave, tmp_path, "next", mode="ok")
    assert ok.ok and warm.starts == 2


def test_lru_eviction_under_the_memory_budget(misbehave, tmp_path: Path):
    # low needs 0.0625 GB, standard 0.5 GB: a 0.55 GB budget holds one of them at a time
    with WarmRunner("process", memory_budget_gb=0.55) as warm:
        assert run(warm, misbehave, tmp_path, "a", mode="ok")[1].ok
        assert run(warm, misbehave, tmp_path, "b", mode="ok", quality="standard")[1].ok
        assert warm.workers() == ["misbehave@standard"] and warm.evictions == 1
        assert run(warm, misbehave, tmp_path, "c", mode="ok")[1].ok
        assert warm.workers() == ["misbehave@low"] and warm.starts == 3


def test_budget_too_small_is_a_setup_failure(misbehave, tmp_path: Path):
    with WarmRunner("process", memory_budget_gb=0.01) as warm:
        _, result = run(warm, misbehave, tmp_path, "a", mode="ok")
    assert result.error is not None and result.error.code == ErrorCode.SETUP_FAILED
    assert "warm budget" in result.error.message


def test_budget_policy_is_pure():
    assert fits(Cost(1, 0), Cost(1, 0), memory_budget_gb=2, vram_budget_gb=0)
    assert not fits(Cost(1, 0), Cost(1, 1), memory_budget_gb=2, vram_budget_gb=0)
    assert eviction_order({"a": 3.0, "b": 1.0, "c": 2.0}) == ["b", "c", "a"]
