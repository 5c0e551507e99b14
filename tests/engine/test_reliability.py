"""Reliability of the engine (issue 5 item 7) on a real process-based ``distributed.LocalCluster``:
many concurrent takes of one shot, a worker SIGKILLed mid-job, runner failure codes. Real
pipeline processes (ProcessRunner), real takes, real git + LFS commits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import Client, LocalCluster

from studio import Project
from studio.engine import Engine, Job, project_jobs
from studio.engine import jobs as job_log
from studio.engine.tasks import execute_shot_node, project_topic
from studio.pipelines import builtin_pipelines_dir
from studio.project import repo
from studio.runner.contract import ErrorCode, JobFailed
from tests.conftest import git_out
from tests.runner.media import MISBEHAVE

pytestmark = pytest.mark.slow
TIMEOUT = 90
SHOT_DIR = "03_Renders/SCENE_01/SHOT_010"


@pytest.fixture
def pipeline_dirs(tmp_path: Path) -> Iterator[Path]:
    """Pipelines the tests derive from built-in/test ones (a Shot cannot set their extra
    inputs, so the tests change the defaults). The environment is set before the cluster
    starts: worker processes (and the nanny's restarts) inherit it."""
    folder = tmp_path / "pipelines"
    folder.mkdir()
    scratch = tmp_path / "tmp"  # workers' temp files (a killed job's work folder) land here
    scratch.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(scratch))
        patch.setenv("STUDIO_RUNNER", "process")  # no Docker daemon needed
        patch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder)]))
        yield folder


@pytest.fixture
def client(pipeline_dirs: Path) -> Iterator[Client]:
    # Processes, so a worker can be SIGKILLed: two single-threaded CPU workers (no VRAM).
    with (
        LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,  # type: ignore[no-untyped-call]
    ):
        c.wait_for_workers(2, timeout=TIMEOUT)
        yield c


@pytest.fixture
def engine(client: Client) -> Engine:
    return Engine(client=client)


def derive(base: Path, folder: Path, name: str, **changes: Any) -> str:
    """Copy a pipeline as ``name`` with input defaults (and manifest fields) changed."""
    target = folder / name
    shutil.copytree(base, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["id"] = name
    for spec in manifest["inputs"]:
        if spec["name"] in changes:
            spec["default"] = changes.pop(spec["name"])
    manifest.update(changes)
    (target / "manifest.json").write_text(json.dumps(manifest))
    return name


def slow_t2i(folder: Path, *, seconds: float) -> str:
    """t2i-draft (tiny) that first waits ``seconds`` while reporting progress: a real image
    take (routed through LFS) from a job that runs long enough to be killed mid-way."""
    steps = int(seconds * 10)
    wait = (
        f"    for step in range({steps}):\n"
        f"        ctx.progress(step, {steps * 2}, 'waiting')\n"
        "        __import__('time').sleep(0.1)\n"
    )
    return t2i_doing_first(folder, "t2i-slow", wait)


def t2i_doing_first(folder: Path, name: str, code: str) -> str:
    """t2i-draft (tiny) as ``name``, running ``code`` (indented lines) before it draws."""
    derive(builtin_pipelines_dir() / "t2i-draft", folder, name, width=128)
    entrypoint = folder / name / "entrypoint.py"
    first_line = "    w, h = frame_size(aspect_ratio, width)\n"
    source = entrypoint.read_text()
    assert first_line in source
    entrypoint.write_text(source.replace(first_line, code + first_line))
    return name


def add_shot(project: Project, pipeline: str, *, scene: int = 1, shot: int = 10) -> str:
    node = project.graph.add_node("Shot", prompt="lanterns at dusk", scene=scene, shot=shot)
    pipe = project.graph.add_node("Pipeline", pipeline_id=pipeline)
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    return node.id


def wait_for(job: Job, event: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while event not in [m["event"] for m in job.events]:
        assert time.monotonic() < deadline, f"no {event} from {job}: {job.events}"
        time.sleep(0.05)


def processes_mentioning(text: str) -> list[int]:
    """Pids of the live processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:  # ended while we looked
            continue
    return found


def folder_entries(project: Project) -> list[str]:
    return sorted(p.name for p in (project.path / SHOT_DIR).iterdir())


def assert_only_complete_takes(project: Project, count: int) -> None:
    """The shot folder holds exactly ``count`` takes, each non-empty with its sidecar, and
    nothing else (no reservation, no temp file)."""
    takes = project.takes(scene=1, shot=10)
    assert len(takes) == count
    expected = sorted([t.name for t in takes] + [t.sidecar_path.name for t in takes])
    assert folder_entries(project) == expected
    for take in takes:
        assert take.ready and take.path.stat().st_size > 0
        assert take.provenance is not None and take.provenance.take == take.name


def test_32_concurrent_takes_of_one_shot_on_2_workers(
    engine: Engine, project: Project, pipeline_dirs: Path
):
    pipeline = derive(builtin_pipelines_dir() / "t2i-draft", pipeline_dirs, "t2i-tiny", width=128)
    node_id = add_shot(project, pipeline)
    jobs = [engine.generate(project, node_id, quality="low") for _ in range(32)]
    takes = [job.result(timeout=TIMEOUT) for job in jobs]

    names = {t.name for t in takes}
    assert len(names) == 32  # distinct takes, one per job
    assert {t.provenance.worker for t in takes if t.provenance} == set(
        engine.client.scheduler_info()["workers"]
    )  # both workers took part
    assert_only_complete_takes(project, 32)
    fsck = subprocess.run(
        ["git", "fsck", "--full"], cwd=project.path, capture_output=True, text=True, check=False
    )
    report = (fsck.stdout + fsck.stderr).lower()
    assert fsck.returncode == 0 and "error" not in report and "missing" not in report, report
    lfs = set(repo.lfs_files(project.path))
    assert {f"{SHOT_DIR}/{name}" for name in names} <= lfs
    assert git_out(project.path, "status", "--porcelain") == ""
    committed = git_out(project.path, "ls-files", "--", SHOT_DIR).split()
    assert len(committed) == 64  # every take and its sidecar
    states = {j.job_id: j.state for j in project_jobs(project)}
    assert states == {job.id: "success" for job in jobs}


def test_a_worker_killed_mid_job_is_retried_on_the_other_worker(
    engine: Engine, project: Project, pipeline_dirs: Path
):
    pipeline = slow_t2i(pipeline_dirs, seconds=3.0)
    node_id = add_shot(project, pipeline)
    client = engine.client
    pids: dict[str, int] = client.run(os.getpid)
    job = engine.generate(project, node_id, quality="low")
    wait_for(job, "server:task_progress")  # the pipeline is running on a worker
    key = f"execute_shot_node-{job.id}"
    [victim] = [w for w, keys in client.processing().items() if key in keys]  # type: ignore[no-untyped-call]
    [survivor] = set(pids) - {victim}
    os.kill(pids[victim], signal.SIGKILL)

    take = job.result(timeout=TIMEOUT)
    assert take.provenance is not None and take.provenance.worker == survivor
    assert_only_complete_takes(project, 1)
    assert git_out(project.path, "status", "--porcelain") == ""
    # The killed attempt's pipeline process saw its stdin close and stopped: no orphan.
    deadline = time.monotonic() + 10
    while orphans := processes_mentioning(f"studio-job-{job.id}-"):
        assert time.monotonic() < deadline, f"orphan pipeline processes {orphans}"
        time.sleep(0.2)
    # The retry cleared the killed attempt's scratch folder, and its own.
    assert not list((pipeline_dirs.parent / "tmp").glob(f"studio-job-{job.id}-*"))
    assert not job_log.attempt_marker(project.path, job.id).exists()
    sequence = [m["event"] for m in job.events]
    assert sequence.count("server:task_success") == 1 and "server:task_failed" not in sequence
    assert sequence.count("server:node_state_updated") == 3  # queued, generating, generating
    [state] = project_jobs(project)
    assert (state.job_id, state.state, state.take) == (job.id, "success", take.name)


def test_a_job_whose_workers_all_die_fails_with_a_sentence(project: Project, pipeline_dirs: Path):
    """No retry left (allowed-failures 0): the engine reports the death as ENGINE_ERROR in
    words, and the job log says failed, not running forever."""
    pipeline = slow_t2i(pipeline_dirs, seconds=3.0)
    node_id = add_shot(project, pipeline)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        engine = Engine(client=client)
        job = engine.generate(project, node_id, quality="low")
        wait_for(job, "server:task_progress")
        [pid] = client.run(os.getpid).values()
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(JobFailed) as caught:
            job.result(timeout=TIMEOUT)
        deadline = time.monotonic() + 10
        while job.events[-1]["event"] != "server:task_failed":
            assert time.monotonic() < deadline, job.events
            time.sleep(0.05)
    assert caught.value.code == ErrorCode.ENGINE_ERROR
    message = job.events[-1]["payload"]["error"]
    assert message.startswith("the worker running this job died on every attempt")
    [state] = project_jobs(project)
    assert (state.state, state.code) == ("failed", "ENGINE_ERROR")


@pytest.mark.parametrize(
    ("mode", "changes", "code", "words"),
    [
        ("sleep", {"seconds": 30.0, "timeout_s": 1}, ErrorCode.TIMEOUT, "time limit"),
        ("exit", {}, ErrorCode.MODEL_ERROR, "exited with code 3"),
    ],
    ids=["timeout", "crash"],
)
def test_runner_failure_codes_surface_as_task_failed(
    engine: Engine,
    project: Project,
    pipeline_dirs: Path,
    mode: str,
    changes: dict[str, Any],
    code: ErrorCode,
    words: str,
):
    # INPUT_INVALID and MODEL_ERROR from an exception are covered in test_engine_dask.py.
    pipeline = derive(MISBEHAVE, pipeline_dirs, f"misbehave-{mode}", mode=mode, **changes)
    job = engine.generate(project, add_shot(project, pipeline), quality="low")
    with pytest.raises(JobFailed) as caught:
        job.result(timeout=TIMEOUT)
    assert caught.value.code == code
    failed = job.events[-1]
    assert failed["event"] == "server:task_failed"
    assert failed["payload"]["code"] == code
    message = failed["payload"]["error"]
    assert isinstance(message, str) and words in message and "Traceback" not in message
    assert not (project.path / SHOT_DIR).exists() or folder_entries(project) == []
    [state] = project_jobs(project)
    assert (state.state, state.code, state.error) == ("failed", code, message)


def test_out_of_gpu_memory_is_retried_once_with_a_lighter_memory_strategy(
    engine: Engine, project: Project, pipeline_dirs: Path
):
    # t2i-draft, made to run out of GPU memory unless asked for a lighter strategy (as a
    # diffusers pipeline does on a too-small GPU; torch's error, known by its name)
    fail = (
        "    if not ctx.spec.get('lighter'):\n"
        "        raise type('OutOfMemoryError', (RuntimeError,), {})('CUDA out of memory')\n"
    )
    name = t2i_doing_first(pipeline_dirs, "t2i-oom", fail)
    job = engine.generate(project, add_shot(project, name), quality="low")
    job.result(timeout=TIMEOUT)
    [notice] = [m["payload"] for m in job.events if m["event"] == "server:notification"]
    assert (
        "t2i-oom ran out of memory (the GPU ran out of memory: CUDA out of memory)"
        in (notice["message"])
    )
    assert "again once with a lighter memory strategy" in notice["message"]
    [take] = project.takes(scene=1, shot=10)
    assert take.ready  # the retry's


def test_out_of_gpu_memory_twice_fails_with_the_advice(
    engine: Engine, project: Project, pipeline_dirs: Path
):
    pipeline = derive(MISBEHAVE, pipeline_dirs, "misbehave-oom", mode="gpu-oom")
    job = engine.generate(project, add_shot(project, pipeline), quality="low")
    with pytest.raises(JobFailed) as caught:
        job.result(timeout=TIMEOUT)
    assert caught.value.code == ErrorCode.OOM
    assert "also after a retry with a lighter memory strategy" in caught.value.message
    assert "lower the quality" in (caught.value.hint or "")


def test_running_out_of_host_memory_is_not_retried_with_offloading(
    engine: Engine, project: Project, pipeline_dirs: Path
):
    # Offloading moves weights from the GPU into host memory: a retry could only make a
    # host-memory shortage worse, so it fails at once, with the advice.
    pipeline = derive(MISBEHAVE, pipeline_dirs, "misbehave-ram", mode="memory-error")
    job = engine.generate(project, add_shot(project, pipeline), quality="low")
    with pytest.raises(JobFailed) as caught:
        job.result(timeout=TIMEOUT)
    assert caught.value.code == ErrorCode.OOM
    assert "host memory, not the GPU" in caught.value.message
    assert "retry" not in caught.value.message
    assert not [m for m in job.events if m["event"] == "server:notification"]


# --- what a worker killed between "take reserved" and "commit" leaves behind ----------------


def run_again(project: Project, node_id: str, pipeline: str, job_id: str) -> dict[str, Any]:
    """The retry of job ``job_id``, as Dask runs it on the next worker (called directly: the
    leftovers below are exactly what a SIGKILL at that point leaves on disk)."""
    return execute_shot_node(
        project_path=str(project.path), job_id=job_id, node_id=node_id,
        graph=project.graph.to_json(), pipeline_id=pipeline, quality="low", seed=5,
        topic=project_topic(str(project.uuid)),
    )  # fmt: skip


def dead_attempt(project: Project, job_id: str, *, written: bytes | None) -> Any:
    """The attempt marker and a take reserved by ``job_id``: empty (killed right after the
    reservation) or written and recorded (killed just before the commit)."""
    marker = job_log.attempt_marker(project.path, job_id)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    take = project.new_take(scene=1, shot=10, ext="png", pipeline="t2i-tiny", prompt="x",
                            seed=5, quality="low", job_id=job_id)  # fmt: skip
    if written is not None:
        take.write_bytes(written)
        take.record(finished_at="2026-11-24T00:00:00Z", worker="tcp://dead:1")
    return take


def test_a_retry_removes_the_empty_take_its_dead_attempt_reserved(
    project: Project, pipeline_dirs: Path
):
    pipeline = derive(builtin_pipelines_dir() / "t2i-draft", pipeline_dirs, "t2i-tiny", width=128)
    node_id = add_shot(project, pipeline)
    dead_attempt(project, "job-a", written=None)
    result = run_again(project, node_id, pipeline, "job-a")
    # The empty reservation is gone (its number, never committed, is free again).
    assert result["ok"] and result["name"] == "SHOT-010_v01_take01.png"
    assert_only_complete_takes(project, 1)
    assert git_out(project.path, "status", "--porcelain") == ""
    assert not job_log.attempt_marker(project.path, "job-a").exists()


def test_a_retry_commits_the_complete_take_its_dead_attempt_wrote(
    project: Project, pipeline_dirs: Path, make_png
):
    pipeline = derive(builtin_pipelines_dir() / "t2i-draft", pipeline_dirs, "t2i-tiny", width=128)
    node_id = add_shot(project, pipeline)
    take = dead_attempt(project, "job-b", written=make_png())
    in_flight = dead_attempt(project, "job-c", written=None)  # another job's reservation
    result = run_again(project, node_id, pipeline, "job-b")
    assert result == {"ok": True, "take": f"{SHOT_DIR}/{take.name}", "name": take.name}
    # No second take (the pipeline did not run again); the other job's reservation is intact.
    assert [t.name for t in project.takes(scene=1, shot=10)] == [take.name, in_flight.name]
    assert in_flight.path.exists() and not in_flight.ready
    assert f"{SHOT_DIR}/{take.name}" in repo.lfs_files(project.path)
    [success] = [e for e in job_log.read(project.path) if e["job_id"] == "job-b"]
    assert success["event"] == "server:task_success"


def test_an_attempt_that_fails_after_its_commit_is_recovered_not_repeated(
    project: Project, pipeline_dirs: Path
):
    """An exception after the commit (here: the thumbnail cannot be written) makes Dask retry;
    the retry finds the committed take instead of generating a second one."""
    pipeline = derive(builtin_pipelines_dir() / "t2i-draft", pipeline_dirs, "t2i-tiny", width=128)
    node_id = add_shot(project, pipeline)
    thumbnails = project.path / "05_Cache/thumbnails"
    shutil.rmtree(thumbnails)
    thumbnails.write_text("not a folder")  # the thumbnail write fails after the commit
    with pytest.raises(OSError):
        run_again(project, node_id, pipeline, "job-d")
    assert job_log.attempt_marker(project.path, "job-d").exists()  # kept for the retry
    thumbnails.unlink()
    result = run_again(project, node_id, pipeline, "job-d")
    assert result["ok"] and result["name"] == "SHOT-010_v01_take01.png"
    assert_only_complete_takes(project, 1)
    assert git_out(project.path, "status", "--porcelain", "--", SHOT_DIR) == ""
