"""DockerRunner specifics: OOM kill, security options on the real container, no orphans."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from studio.pipelines import get_pipeline
from studio.runner.base import create_job
from studio.runner.contract import ErrorCode, JobSpec
from studio.runner.docker import DockerRunner, container_options, docker_oom_verdict, job_mounts
from studio.runner.reaper import reap_orphans

pytestmark = pytest.mark.slow


@pytest.fixture
def docker_runner(docker_client, build_pipeline_image, misbehave):
    build_pipeline_image(misbehave)
    runner = DockerRunner(client=docker_client, grace_s=2)
    yield runner
    runner.close()


def owned(client, owner: str) -> list[Any]:
    return list(
        client.containers.list(
            all=True, filters={"label": f"studio.owner={owner}"}, ignore_removed=True
        )
    )


def owned_ids(client, owner: str) -> list[str]:
    """``owned`` without inspecting each container, which fails (404) for one the watchdog
    removes between the listing and the inspect."""
    label = {"label": f"studio.owner={owner}"}
    return [c.id for c in client.containers.list(all=True, filters=label, sparse=True)]


def test_oom_kill_maps_to_oom(docker_runner, misbehave, tmp_path: Path):
    # the manifest gives quality "low" 64 MB: the job grows until the kernel kills it
    job = create_job(misbehave, {"mode": "oom"}, job_dir=tmp_path / "job", quality="low")
    result = docker_runner.run(misbehave, job)
    assert result.error is not None and result.error.code == ErrorCode.OOM
    assert result.exit_code == 137
    assert "lower the quality" in result.error.hint
    assert owned(docker_runner.client, docker_runner.owner) == []


def test_security_options_are_applied(docker_runner, misbehave, tmp_path: Path):
    job = create_job(misbehave, {"mode": "sleep", "seconds": 30}, job_dir=tmp_path / "job")
    cancel = threading.Event()
    thread = threading.Thread(target=lambda: docker_runner.run(misbehave, job, cancel=cancel))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not (containers := owned(docker_runner.client, docker_runner.owner)):
            assert time.monotonic() < deadline, "no container appeared"
            time.sleep(0.05)
        attrs = containers[0].attrs
    finally:
        cancel.set()
        thread.join(30)
    host, config = attrs["HostConfig"], attrs["Config"]
    assert host["NetworkMode"] == "none"
    assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd")
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["ReadonlyRootfs"] is True
    assert host["Memory"] == 64 * 1024**2 and host["MemorySwap"] == host["Memory"]
    assert host["PidsLimit"] and host["PidsLimit"] > 0
    assert host["NanoCpus"] == 1_000_000_000
    assert not host.get("DeviceRequests")  # no GPU was assigned
    assert host["Privileged"] is False
    assert config["User"] == "1000:1000"
    assert config["Labels"]["studio.pipeline"] == "misbehave"
    assert config["Labels"]["studio.job"] == json.loads((job / "spec.json").read_text())["job_id"]
    mounts = {m["Destination"]: m["RW"] for m in attrs["Mounts"]}
    assert mounts == {"/job": False, "/job/outputs": True}
    assert owned(docker_runner.client, docker_runner.owner) == []


def test_job_runs_as_non_root_and_cannot_write_inputs(docker_runner, misbehave, tmp_path, make_png):
    image = tmp_path / "in.png"
    image.write_bytes(make_png())
    job = create_job(misbehave, {"mode": "ok", "image": str(image)}, job_dir=tmp_path / "job")
    result = docker_runner.run(misbehave, job)
    assert result.ok, result.error
    payload = json.loads((job / result.outputs["result"]).read_text())
    assert payload["uid"] == 1000 and payload["image_bytes"] == image.stat().st_size


def test_the_result_names_the_image_the_container_ran(docker_runner, misbehave, tmp_path: Path):
    """The image ID (``docker image inspect``'s Id): what the take's provenance records."""
    job = create_job(misbehave, {"mode": "ok"}, job_dir=tmp_path / "job")
    result = docker_runner.run(misbehave, job)
    assert result.ok, result.error
    image = docker_runner.client.images.get(misbehave.manifest.image_name)
    assert result.image_digest == image.id and image.id.startswith("sha256:")


def test_gpu_device_request_only_when_assigned():
    pipeline = get_pipeline("t2i-draft")
    resources = pipeline.manifest.resources_for("low")
    common: dict[str, Any] = {
        "resources": resources,
        "user": "1000:1000",
        "owner": "o",
        "pids_limit": 64,
        "mounts": job_mounts(Path("/tmp/j")),
        "host_cpus": 2,
    }
    cpu = container_options(
        pipeline, JobSpec(job_id="a", pipeline="t2i-draft", inputs={}), **common
    )
    assert cpu["device_requests"] == []
    gpu_spec = JobSpec(job_id="a", pipeline="t2i-draft", inputs={}, gpus=("1",))
    gpu = container_options(pipeline, gpu_spec, **common)
    [request] = gpu["device_requests"]
    assert request["DeviceIDs"] == ["1"] and request["Capabilities"] == [["gpu"]]


def test_dockers_oom_flag_is_the_evidence_and_its_absence_says_nothing():
    assert docker_oom_verdict({"ExitCode": 137, "OOMKilled": True})[0] is True
    killed, says = docker_oom_verdict({"ExitCode": 137, "OOMKilled": False})
    assert killed is False and "Docker reports no out-of-memory kill" in says
    killed, says = docker_oom_verdict({"ExitCode": 137})  # a daemon that does not say
    assert killed is None and "does not report" in says


CALLER = """
import sys, threading
from pathlib import Path
from typing import Any
from studio.pipelines import load_pipeline
from studio.runner.base import create_job
from studio.runner.docker import DockerRunner
pipeline = load_pipeline(Path(sys.argv[1]))
runner = DockerRunner()
print(runner.owner, flush=True)
job = create_job(pipeline, {"mode": "sleep", "seconds": 120}, job_dir=Path(sys.argv[2]))
runner.run(pipeline, job)
"""


def test_no_orphans_when_the_caller_is_killed(docker_client, docker_runner, misbehave, tmp_path):
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER, str(misbehave.folder), str(tmp_path / "job")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert caller.stdout is not None
    owner = caller.stdout.readline().strip()
    deadline = time.monotonic() + 60
    while not owned_ids(docker_client, owner):
        assert time.monotonic() < deadline, "the caller never started its container"
        time.sleep(0.1)
    os.kill(caller.pid, signal.SIGKILL)  # no cleanup code of the caller runs
    caller.wait()
    deadline = time.monotonic() + 30
    while owned_ids(docker_client, owner):
        assert time.monotonic() < deadline, "the watchdog did not remove the orphan"
        time.sleep(0.2)


def test_reaper_removes_containers_of_dead_owners(docker_client, base_image):
    dead = f"{os.uname().nodename}:999999:deadbeef"
    container = docker_client.containers.create(
        base_image, ["sleep", "60"], labels={"studio.runner": "1", "studio.owner": dead},
        network_mode="none",
    )  # fmt: skip
    alive = f"{os.uname().nodename}:{os.getpid()}:cafe"
    mine = docker_client.containers.create(
        base_image, ["sleep", "60"], labels={"studio.runner": "1", "studio.owner": alive},
        network_mode="none",
    )  # fmt: skip
    try:
        assert reap_orphans(docker_client) >= 1
        assert owned(docker_client, dead) == []
        assert [c.id for c in owned(docker_client, alive)] == [mine.id]
    finally:
        for c in (container, mine):
            with contextlib.suppress(Exception):
                c.remove(force=True)
