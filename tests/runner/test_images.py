"""Pipeline images on demand (studio.runner.images): the first job builds a missing image,
with its progress as ordinary events; one build per image per host however many ask; an
image built from older sources is rebuilt; a base image that cannot be had is a clear error.
Real Docker builds of a throwaway pipeline (its image is removed afterwards)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from studio.pipelines import Pipeline, load_pipeline, scaffold
from studio.runner.base import create_job
from studio.runner.contract import ErrorCode, Event, ProgressEvent
from studio.runner.docker import DockerRunner
from studio.runner.images import (
    LOCAL_BASE_IMAGE,
    REGISTRY_BASE_IMAGE,
    BuildProgress,
    ImageUnavailable,
    _state_path,
    choose_present_base,
    ensure_base_image,
    host_build_lock,
    needs_build,
    parse_build_step,
)

pytestmark = pytest.mark.slow


def test_build_steps_are_read_from_the_daemons_log():
    assert parse_build_step("Step 4/9 : RUN python3 -m venv /opt/venv") == (
        4, 9, "RUN python3 -m venv /opt/venv",
    )  # fmt: skip
    assert parse_build_step(" ---> Running in 1234") is None
    assert parse_build_step("Successfully built 1234") is None


def test_the_base_image_is_the_configured_one_else_one_already_here():
    here = {LOCAL_BASE_IMAGE}.__contains__
    assert choose_present_base(configured=None, present=here) == LOCAL_BASE_IMAGE
    both = {LOCAL_BASE_IMAGE, REGISTRY_BASE_IMAGE}.__contains__
    assert choose_present_base(configured=None, present=both) == REGISTRY_BASE_IMAGE
    assert choose_present_base(configured=None, present=lambda name: False) is None
    # a configured image is the only choice: absent means "pull it or say why not"
    assert choose_present_base(configured="cuda:12", present=here) is None
    assert choose_present_base(configured="cuda:12", present={"cuda:12"}.__contains__) == "cuda:12"


@pytest.fixture
def throwaway(tmp_path: Path, docker_client) -> Iterator[Pipeline]:
    """A fresh pipeline (the template) with an image name no other test uses; its image is
    removed afterwards."""
    name = f"ondemand-{uuid.uuid4().hex[:8]}"
    folder = scaffold(name, parent=tmp_path / "pipelines")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["image"] = f"studio-test/{name}:0.1.0"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    pipeline = load_pipeline(folder)
    yield pipeline
    import docker.errors

    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(pipeline.manifest.image_name, force=True)


def run_job(runner: DockerRunner, pipeline: Pipeline, job_dir: Path) -> tuple[bool, list[Event]]:
    events: list[Event] = []
    create_job(pipeline, {"prompt": "a red door", "steps": 2}, job_dir=job_dir)
    result = runner.run(pipeline, job_dir, on_event=events.append)
    assert result.ok or result.error is not None
    return result.ok, events


def build_steps(events: list[Event], pipeline_id: str) -> list[tuple[int, int]]:
    pattern = re.compile(rf"^building image {re.escape(pipeline_id)}: step (\d+)/(\d+)")
    return [
        (int(m[1]), int(m[2]))
        for e in events
        if isinstance(e, ProgressEvent) and (m := pattern.match(e.message))
    ]


def test_the_first_job_builds_the_missing_image_once_and_rebuilds_after_an_edit(
    throwaway: Pipeline, docker_client, base_image: str, tmp_path: Path
):
    runner = DockerRunner(client=docker_client)
    try:
        assert needs_build(throwaway, None) == "not built yet"
        ok, events = run_job(runner, throwaway, tmp_path / "job1")
        assert ok, events
        steps = build_steps(events, throwaway.id)
        assert steps and steps == sorted(steps) and steps[-1][0] == steps[-1][1], steps
        image = docker_client.images.get(throwaway.manifest.image_name)
        assert needs_build(throwaway, image.labels) is None

        ok, events = run_job(runner, throwaway, tmp_path / "job2")  # built: nothing to do
        assert ok and build_steps(events, throwaway.id) == []

        entrypoint = throwaway.entrypoint
        entrypoint.write_text(entrypoint.read_text() + "\n# edited\n")
        assert needs_build(throwaway, image.labels) == "built from other sources"
        ok, events = run_job(runner, throwaway, tmp_path / "job3")
        assert ok and build_steps(events, throwaway.id), "an edited pipeline is rebuilt"
        assert any("built from other sources" in getattr(e, "message", "") for e in events)
        import docker.errors

        with pytest.raises(docker.errors.ImageNotFound):  # the replaced build is not left behind
            docker_client.images.get(image.id)
    finally:
        runner.close()


def test_two_processes_asking_at_once_share_one_build(
    throwaway: Pipeline, docker_client, base_image: str, tmp_path: Path
):
    command = [
        sys.executable, "-m", "studio", "pipeline", "run", str(throwaway.folder),
        "--runner", "docker", "--input", "prompt=a red door", "--input", "steps=2",
    ]  # fmt: skip
    env = {**os.environ, "COLUMNS": "200"}
    logs = [tmp_path / f"run{i}.log" for i in range(2)]
    # Hold the image's build lock (as another builder would) until both runs wait for it,
    # so both ask at once however fast or slow this machine is.
    lock = FileLock(_state_path(throwaway.manifest.image_name, ".lock"))
    with lock:
        runs = [
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("w"), env=env)
            for log in logs
        ]
        deadline = time.monotonic() + 120
        while not all("waiting for another build of" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(run.poll() is None for run in runs), [log.read_text() for log in logs]
            time.sleep(0.1)
    for run in runs:
        run.wait(timeout=600)
    texts = [log.read_text() for log in logs]
    assert [run.returncode for run in runs] == [0, 0], texts
    built = re.compile(rf"^building image {re.escape(throwaway.id)}: step", re.M)
    assert sum(bool(built.search(text)) for text in texts) == 1, texts  # one build for both


def test_an_image_that_cannot_be_had_fails_the_job_with_what_to_do(
    throwaway: Pipeline, docker_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    runner = DockerRunner(client=docker_client)
    try:
        monkeypatch.setenv("STUDIO_BUILD_ON_DEMAND", "0")
        create_job(throwaway, {"prompt": "x"}, job_dir=tmp_path / "off")
        result = runner.run(throwaway, tmp_path / "off")
        assert result.error is not None and result.error.code == ErrorCode.SETUP_FAILED
        assert f"image {throwaway.manifest.image_name} is not built" in result.error.message
        assert f"studio pipeline build {throwaway.id}" in result.error.message

        monkeypatch.setenv("STUDIO_BUILD_ON_DEMAND", "1")
        monkeypatch.setenv("STUDIO_BASE_IMAGE", "studio-test/no-such-base:1")
        with pytest.raises(ImageUnavailable) as caught:
            ensure_base_image(client=docker_client, on_progress=lambda event: None)
        assert "STUDIO_BASE_IMAGE=studio-test/no-such-base:1 is not on this machine and " \
            "cannot be pulled" in caught.value.message  # fmt: skip
        assert "unset STUDIO_BASE_IMAGE" in (caught.value.hint or "")
        create_job(throwaway, {"prompt": "x"}, job_dir=tmp_path / "nobase")
        result = runner.run(throwaway, tmp_path / "nobase")
        assert result.error is not None and result.error.code == ErrorCode.SETUP_FAILED
        assert "cannot be pulled" in result.error.message
    finally:
        runner.close()


def test_waiters_follow_the_builders_progress_including_its_base_image(tmp_path: Path):
    # No Docker needed: two jobs of one host, the first holding the build lock of an image
    # and making its base image, the second waiting for it.
    name = f"studio-test/progress-{uuid.uuid4().hex[:8]}:1"
    seen: list[str] = []
    holding, said, done = threading.Event(), threading.Event(), threading.Event()

    def builder() -> None:
        progress = BuildProgress(sink=lambda event: None)
        with host_build_lock(name, progress=progress):
            holding.set()
            with host_build_lock(f"{name}-base", progress=progress):  # e.g. the base image
                progress.say("making the base image: I: Retrieving libc6", now=True)
                said.set()
                done.wait(10)

    thread = threading.Thread(target=builder)
    thread.start()
    assert holding.wait(10) and said.wait(10)
    waiter = BuildProgress(sink=lambda event: seen.append(event.message))

    def wait_for_it() -> None:
        with host_build_lock(name, progress=waiter):
            pass

    waiting = threading.Thread(target=wait_for_it)
    waiting.start()
    deadline = time.monotonic() + 10
    while not any("I: Retrieving libc6" in message for message in seen):
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)
    assert seen[-1] == f"waiting for another build of {name}: making the base image: " \
        "I: Retrieving libc6"  # fmt: skip
    done.set()
    thread.join(10)
    waiting.join(10)


def test_a_cancel_or_the_time_limit_stops_a_job_waiting_for_its_image(
    throwaway: Pipeline, docker_client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    runner = DockerRunner(client=docker_client)
    lock = FileLock(_state_path(throwaway.manifest.image_name, ".lock"))
    try:
        with lock:  # a build that never ends, as far as the job can tell
            cancel = threading.Event()
            events: list[Event] = []
            create_job(throwaway, {"prompt": "x"}, job_dir=tmp_path / "canceled")
            outcome: list[Any] = []
            job = threading.Thread(
                target=lambda: outcome.append(
                    runner.run(
                        throwaway, tmp_path / "canceled", on_event=events.append, cancel=cancel
                    )
                )
            )
            job.start()
            deadline = time.monotonic() + 30
            while not any("waiting for another build" in getattr(e, "message", "") for e in events):
                assert time.monotonic() < deadline, events
                time.sleep(0.05)
            cancel.set()
            job.join(timeout=10)
            assert not job.is_alive(), "a cancel must stop the wait"
            [result] = outcome
            assert result.error is not None and result.error.code == ErrorCode.CANCELED

            monkeypatch.setenv("STUDIO_BUILD_TIMEOUT_S", "1")
            create_job(throwaway, {"prompt": "x"}, job_dir=tmp_path / "slow")
            started = time.monotonic()
            result = runner.run(throwaway, tmp_path / "slow")
            assert time.monotonic() - started < 10
            assert result.error is not None and result.error.code == ErrorCode.SETUP_FAILED
            assert "longer than STUDIO_BUILD_TIMEOUT_S" in result.error.message
    finally:
        runner.close()


def test_only_the_studios_own_builds_are_rebuilt_and_links_out_are_refused(tmp_path: Path):
    from studio.runner.build import LABEL_BASE, LABEL_SOURCES, BuildFailed, sources_digest

    pipeline = load_pipeline(scaffold("owned", parent=tmp_path / "pipelines"))
    ours = {"studio.pipeline": "owned", LABEL_SOURCES: sources_digest(pipeline)}
    assert needs_build(pipeline, {**ours, LABEL_BASE: "studio-base:bookworm"}) is None
    assert needs_build(pipeline, {**ours, LABEL_BASE: "python:3.12-slim"}, base="cuda:12") == (
        "built from python:3.12-slim, not STUDIO_BASE_IMAGE=cuda:12"
    )
    assert needs_build(pipeline, {"maintainer": "someone"}) is None  # pulled: used as it is
    with pytest.raises(ImageUnavailable, match="is pipeline t2i-draft's build"):
        needs_build(pipeline, {"studio.pipeline": "t2i-draft"})
    (pipeline.folder / "secrets").symlink_to("/etc/passwd")
    with pytest.raises(BuildFailed, match="outside the pipeline folder"):
        sources_digest(pipeline)
