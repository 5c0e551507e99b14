"""``render_final_video`` on a real Dask cluster with the real MoviePy renderer: real takes
(ffmpeg clips committed through git + LFS), the EDL exported first, the film checked with
ffprobe against the EDL; progress in the durable job log, cancel, LFS pointers, placement."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, LocalCluster

from studio import Project, SequenceError
from studio.assembly.edl import sequence_from_edl
from studio.assembly.export import EDLExport
from studio.assembly.render import RenderProgress
from studio.assembly.resolve import media_named_by_edl
from studio.assembly.timecode import frame_rate
from studio.engine import Engine
from studio.engine import engine as engine_module
from studio.engine import jobs as job_log
from studio.engine.cluster import local_cluster
from studio.engine.render_task import STAGING_DIR, eta_text, progress_step, render_final_video
from studio.engine.rendering import (
    WAITING_FOR_CPU_WORKER,
    FinalVideo,
    NoCPUWorker,
    RenderJob,
    render,
    submit_render,
)
from studio.project.layout import EDLS_DIR, EXPORTS_DIR
from studio.runner.contract import ErrorCode, JobFailed
from tests.conftest import git_out
from tests.engine.films import cpu_cluster, probe, two_shot_edit

pytestmark = pytest.mark.slow
TIMEOUT = 180


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with cpu_cluster() as c:
        yield c


@pytest.fixture
def engine(client: Client) -> Engine:
    return Engine(client=client)


@pytest.fixture
def film(project: Project, tmp_path: Path) -> Project:
    two_shot_edit(project, tmp_path / "media")
    return project


def exports(project: Project) -> list[str]:
    return sorted(p.name for p in (project.path / EXPORTS_DIR).iterdir() if p.name != ".gitkeep")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log_of(project: Project, job_id: str) -> list[dict[str, Any]]:
    return [line for line in job_log.read(project.path) if line["job_id"] == job_id]


# --- pure -------------------------------------------------------------------------------------


def test_progress_is_frames_and_eta() -> None:
    assert progress_step(RenderProgress(frames_done=12, frames_total=48, eta_s=65.4)) == (
        25.0,
        "rendering frame 12/48, ETA 1:05",
    )
    assert progress_step(RenderProgress(frames_done=0, frames_total=48)) == (
        0.0,
        "rendering frame 0/48",
    )
    assert eta_text(3725) == "ETA 1:02:05" and eta_text(None) == ""


# --- the job ----------------------------------------------------------------------------------


def test_project_render_makes_versioned_films_frame_exact_to_the_edl(
    film: Project, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "_default", engine)  # project.render's engine
    job = film.render()
    assert isinstance(job, RenderJob) and job.node_id == "asm" and job.export is not None
    assert job.export.edl.name == "Test_Film_v001.edl"  # exported (and committed) first
    first = job.result(timeout=TIMEOUT)
    assert isinstance(first, FinalVideo)
    assert first.path == film.path / EXPORTS_DIR / "Test_Film_v001.mp4" and first.version == 1
    assert (first.edl, first.otio, first.fcp_xml) == job.export.paths
    assert "Test_Film_v001.mp4" in repr(job) and "success" in repr(job)
    bar, label = job.progress().children  # what a notebook shows without the canvas
    assert (bar.value, label.value) == (100, "success Test_Film_v001.mp4")

    # The film is what its EDL says, read back the way the job read it.
    text = first.edl.read_text()
    sequence = sequence_from_edl(
        text, frame_rate=frame_rate("24"), media=media_named_by_edl(film, text)
    )
    assert sequence.duration == 48 + 48 - 6  # two 2 s clips, a 6-frame dissolve
    facts = probe(first.path)
    assert facts["frames"] == sequence.duration == first.frames
    assert facts["video_duration"] == sequence.seconds
    assert (facts["fps"], facts["size"]) == (24, (854, 480))
    assert (facts["codec"], facts["pix_fmt"], facts["audio_rate"]) == ("h264", "yuv420p", 48000)

    # The durable job log: queued, generating, frames with an ETA, success with the export.
    lines = log_of(film, job.id)
    states = [line["payload"]["state"] for line in lines
              if line["event"] == "server:node_state_updated"]  # fmt: skip
    assert states == ["queued", "generating"]
    assert lines[0]["info"]["task"] == "render_final_video"
    steps = [line["payload"]["step"] for line in lines if line["event"] == "server:task_progress"]
    assert any(step.startswith(f"rendering frame 0/{sequence.duration}") for step in steps)
    assert f"rendering frame {sequence.duration}/{sequence.duration}" in " ".join(steps)
    [success] = [line["payload"] for line in lines if line["event"] == "server:task_success"]
    result = success["result"]
    assert success["node_id"] == "asm"
    assert result["output_url"] == "06_Exports/Test_Film_v001.mp4"
    assert (result["edl"], result["otio"], result["fcp_xml"]) == tuple(
        f"{EDLS_DIR}/Test_Film_v001.{ext}" for ext in ("edl", "otio", "xml")
    )
    state = film.jobs()[-1]
    assert (state.state, state.output_url) == ("success", "06_Exports/Test_Film_v001.mp4")

    # Dask computing the ended task again (its result's worker left) renders nothing.
    again = render_final_video(
        project_path=str(film.path), job_id=job.id, node_id="asm", edl=result["edl"], otio=None,
        fcp_xml=None, title="Test Film", frame_rate_label="24", size=(854, 480),
        quality="standard", topic="unused",
    )  # fmt: skip
    assert again["ok"] and again["output_url"] == result["output_url"]
    assert exports(film) == ["Test_Film_v001.mp4"]

    # Again: a new EDL version and a new film; the first is never touched.
    before = digest(first.path)
    second = film.render().result(timeout=TIMEOUT)
    assert second.name == "Test_Film_v002.mp4" and second.edl.name == "Test_Film_v002.edl"
    assert digest(first.path) == before
    assert exports(film) == ["Test_Film_v001.mp4", "Test_Film_v002.mp4"]  # no staging left
    # Deliverables are git-ignored; the EDLs are committed.
    assert git_out(film.path, "status", "--porcelain", "--", EXPORTS_DIR, EDLS_DIR) == ""
    ignored = git_out(film.path, "status", "--porcelain", "--ignored", "--", EXPORTS_DIR)
    assert "!! 06_Exports/Test_Film_v001.mp4" in ignored
    assert "Test_Film_v002.edl" in git_out(film.path, "ls-files", EDLS_DIR)
    assert git_out(film.path, "ls-files", EXPORTS_DIR).split() == [f"{EXPORTS_DIR}/.gitkeep"]


def _children_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command, rest = stat.rsplit(")", 1)[0].split("(", 1)[1], stat.rsplit(")", 1)[1].split()
        if int(rest[1]) == os.getpid() and name in command:
            found.append(int(entry.name))
    return found


def test_cancel_mid_render_stops_the_encoder_and_leaves_no_file(
    project: Project, engine: Engine, tmp_path: Path
) -> None:
    two_shot_edit(project, tmp_path / "media", seconds=(20, 20))
    job = render(engine, project)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:  # wait until frames are being encoded
        steps = [m["payload"].get("step", "") for m in job.events]
        if any(s.startswith("rendering frame") and not s.startswith("rendering frame 0/")
               for s in steps):  # fmt: skip
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"no frame was rendered: {job.events}")
    job.cancel()
    with pytest.raises(JobFailed) as failed:
        job.result(timeout=TIMEOUT)
    assert failed.value.code == ErrorCode.CANCELED
    assert job.state == "canceled"
    assert exports(project) == []  # no film, no staging folder
    assert not (project.path / EXPORTS_DIR / STAGING_DIR / job.id).exists()
    deadline = time.monotonic() + 10
    while _children_named("ffmpeg") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _children_named("ffmpeg") == []  # the encoder and the readers are gone
    assert project.jobs()[-1].state == "canceled"


# --- Git LFS pointers (a clone without `git lfs pull`) -----------------------------------------


def _clone(
    film: Project, export: EDLExport, target: Path, *, keep_remote: bool
) -> tuple[Project, EDLExport]:
    subprocess.run(["git", "clone", "-q", str(film.path), str(target)], check=True,
                   env={**os.environ, "GIT_LFS_SKIP_SMUDGE": "1"})  # fmt: skip
    if not keep_remote:
        subprocess.run(["git", "remote", "remove", "origin"], cwd=target, check=True)
    clone = Project(target)
    moved = replace(
        export,
        edl=target / export.edl.relative_to(film.path),
        otio=target / export.otio.relative_to(film.path),
        fcp_xml=target / export.fcp_xml.relative_to(film.path),
    )
    return clone, moved


def test_lfs_pointer_sources_are_refused_with_the_command(
    film: Project, engine: Engine, tmp_path: Path
) -> None:
    export = film.export_edl()
    clone, moved = _clone(film, export, tmp_path / "clone", keep_remote=False)
    take = "03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.mp4"
    assert (clone.path / take).read_bytes().startswith(b"version https://git-lfs")
    job = submit_render(engine, clone, moved, node_id="asm")
    with pytest.raises(JobFailed) as failed:
        job.result(timeout=TIMEOUT)
    assert failed.value.code == ErrorCode.INPUT_INVALID
    message = failed.value.failure.message
    assert "git lfs pull --include=" in message and take in message and str(clone.path) in message
    assert exports(clone) == []


def test_lfs_pointer_sources_are_pulled_when_the_remote_has_them(
    film: Project, engine: Engine, tmp_path: Path
) -> None:
    export = film.export_edl()
    clone, moved = _clone(film, export, tmp_path / "clone", keep_remote=True)
    made = submit_render(engine, clone, moved, node_id="asm").result(timeout=TIMEOUT)
    assert made.path == clone.path / EXPORTS_DIR / "Test_Film_v001.mp4"
    assert probe(made.path)["frames"] == export.sequence.duration
    take = clone.path / "03_Renders/SCENE_01/SHOT_010/SHOT-010_v01_take01.mp4"
    assert not take.read_bytes().startswith(b"version https://git-lfs")  # pulled


# --- refusals, before anything is written ---------------------------------------------------------


def test_a_shot_without_a_take_is_refused_naming_it(project: Project, engine: Engine) -> None:
    graph = project.graph
    graph.add_node("Shot", id="s10", scene=1, shot=10)
    graph.add_node("VSEAssembler", id="asm")
    graph.connect("s10", "output", "asm", "clips")
    with pytest.raises(SequenceError) as refused:
        render(engine, project)
    assert refused.value.node_id == "s10" and "generate" in str(refused.value)
    assert not list((project.path / EDLS_DIR).glob("*.edl")) and project.jobs() == []


def test_renders_never_take_a_gpu_workers_slot(film: Project) -> None:
    # Only a GPU worker: the render is refused at once (it would wait for ever), nothing written.
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=False,  # type: ignore[no-untyped-call]
                     dashboard_address=":0", resources={"VRAM": 8}) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):  # fmt: skip
        with pytest.raises(NoCPUWorker) as refused:
            render(Engine(client=client), film)
        assert "CPU" in str(refused.value) and "studio cluster worker" in str(refused.value)
    assert not list((film.path / EDLS_DIR).glob("*.edl"))
    # The studio's local cluster on a GPU machine: a GPU worker and a CPU worker; the render
    # runs on the CPU one.
    with (
        local_cluster(vram_gb=[8.0], processes=False, dashboard=False) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        client.wait_for_workers(2, timeout=30)
        workers = client.scheduler_info(n_workers=-1)["workers"]
        cpu = next(a for a, w in workers.items() if "CPU" in w["resources"])
        gpu = next(a for a, w in workers.items() if "VRAM" in w["resources"])
        job = render(Engine(client=client), film)
        job.result(timeout=TIMEOUT)
        [success] = [line["payload"] for line in log_of(film, job.id)
                     if line["event"] == "server:task_success"]  # fmt: skip
        assert success["result"]["worker"] == cpu != gpu


def test_with_an_autoscaler_a_render_queues_for_a_cpu_worker_and_says_so(
    film: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway cluster that adds workers on demand has no CPU worker until asked: the render
    is queued (as a GPU job is), its node saying what it waits for, not refused."""
    monkeypatch.setenv("STUDIO_AUTOSCALER", "1")
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=False,  # type: ignore[no-untyped-call]
                     dashboard_address=":0", resources={"VRAM": 8}) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):  # fmt: skip
        job = render(Engine(client=client), film)
        time.sleep(1.0)  # a worker that could take it would have started it by now
        assert not job.done()
        assert [(line["event"], line["payload"].get("state"), line["payload"].get("step"))
                for line in log_of(film, job.id)] == [
            ("server:node_state_updated", "queued", WAITING_FOR_CPU_WORKER),
        ]  # fmt: skip
        assert job.state == "queued"  # waiting, not "generating 0%"
        job.cancel()
