"""The engine end to end on a real ``distributed.LocalCluster``: real pipeline runs (the
built-in ``t2i-draft`` through the ProcessRunner), real takes, real git + LFS commits."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from distributed import Client

from studio import Project
from studio.engine import Engine, JobRequest, NoWorkerFits, Overrides, project_jobs
from studio.engine import jobs as job_log
from studio.errors import InvalidInput
from studio.pipelines import builtin_pipelines_dir
from studio.project import repo
from studio.runner.contract import ErrorCode, JobFailed
from tests.conftest import git_out
from tests.engine.clusters import add_draft_shot, thread_client
from tests.runner.media import MISBEHAVE, video_facts

pytestmark = pytest.mark.slow
TIMEOUT = 60


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with thread_client(workers=2) as c:
        yield c


@pytest.fixture
def engine(client: Client, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("STUDIO_RUNNER", "process")  # no Docker daemon needed
    return Engine(client=client)


add_shot = add_draft_shot


def names(job) -> list[str]:
    return [m["event"] for m in job.events]


def test_one_take(engine: Engine, project: Project):
    node_id = add_shot(project)
    job = engine.generate(project, node_id, quality="low")
    bar, label = job.progress().children  # what a notebook shows without the canvas
    take = job.result(timeout=TIMEOUT)
    assert (bar.value, bar.bar_style) == (100, "success")
    assert label.value == f"success {take.name}"
    assert take.ready and take.name == "SHOT-010_v01_take01.png"
    assert take.path.read_bytes().startswith(b"\x89PNG")
    provenance = take.provenance
    assert provenance is not None
    assert (provenance.pipeline, provenance.seed, provenance.quality) == ("t2i-draft", 7, "low")
    assert provenance.prompt == "lanterns at dusk" and provenance.worker
    assert provenance.job_id == job.id
    assert provenance.image_digest is None  # a local process: no image
    assert git_out(project.path, "status", "--porcelain", "--", "03_Renders") == ""
    shown = engine._repr_html_()  # what a notebook shows: scheduler, workers, dashboard link
    assert "Studio engine" in shown and "CPU only" in shown and "dashboard" in shown.lower()


def test_events_arrive_in_order(engine: Engine, project: Project):
    job = engine.generate(project, add_shot(project))
    take = job.result(timeout=TIMEOUT)
    sequence = names(job)
    assert sequence[0] == "server:node_state_updated"  # queued, from the kernel
    assert job.events[0]["payload"]["state"] == "queued"
    assert job.events[1] == {
        "event": "server:node_state_updated",
        "payload": {"node_id": job.node_id, "state": "generating", "task_id": job.id},
    }
    middle = sequence[2:-1]
    assert middle and set(middle) == {"server:task_progress"}
    progress = [m["payload"]["progress"] for m in job.events[2:-1]]
    assert progress == sorted(progress)
    assert sequence[-1] == "server:task_success"
    result = job.events[-1]["payload"]["result"]
    assert result["take"] == take.name
    assert result["output_url"] == take.path.relative_to(project.path).as_posix()
    # The worker made the thumbnail once and names the cached file; each front end links it
    # (the canvas inlines it, the server serves it), so no base64 travels through the log.
    assert result["thumbnail"] == f"05_Cache/thumbnails/{take.name}.jpg"
    assert (project.path / result["thumbnail"]).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    assert "thumbnail_url" not in result
    assert job.state == "success"


def test_two_generations_make_take01_and_take02_both_in_lfs(engine: Engine, project: Project):
    node_id = add_shot(project)
    first = engine.generate(project, node_id)
    second = engine.generate(project, node_id)  # concurrently, on the other worker
    takes = sorted(t.name for t in (first.result(timeout=TIMEOUT), second.result(timeout=TIMEOUT)))
    assert takes == ["SHOT-010_v01_take01.png", "SHOT-010_v01_take02.png"]
    lfs = repo.lfs_files(project.path)
    for name in takes:
        assert f"03_Renders/SCENE_01/SHOT_010/{name}" in lfs
    listed = [t.name for t in project.takes(scene=1, shot=10)]
    assert listed == takes  # nothing pending or partial left behind
    assert {j.state for j in project_jobs(project)} == {"success"}


def test_bad_input_fails_with_the_runners_code(engine: Engine, project: Project):
    node_id = add_shot(project, prompt="")  # t2i-draft requires a prompt
    job = engine.generate(project, node_id)
    with pytest.raises(JobFailed) as caught:
        job.result(timeout=TIMEOUT)
    assert caught.value.code == ErrorCode.INPUT_INVALID
    failed = job.events[-1]
    assert failed["event"] == "server:task_failed"
    assert failed["payload"]["code"] == "INPUT_INVALID"
    assert "prompt: required" in failed["payload"]["error"]
    assert project.takes(scene=1, shot=10) == []
    [state] = project_jobs(project)
    assert (state.state, state.code) == ("failed", "INPUT_INVALID")


def test_overrides_are_the_jobs_own_and_checked_at_submit(engine: Engine, project: Project):
    node_id = add_shot(project)
    overrides = Overrides(prompt="a different market", seed=42, inputs={"width": 96})
    take = engine.generate(project, node_id, overrides=overrides).result(timeout=TIMEOUT)
    provenance = take.provenance
    assert provenance is not None
    assert (provenance.prompt, provenance.seed, provenance.inputs["width"]) == (
        "a different market", 42, 96)  # fmt: skip
    assert provenance.sweep is None  # not a sweep's
    assert project.graph.node(node_id).data["prompt"] == "lanterns at dusk"  # unchanged
    for bad, match in (
        (Overrides(inputs={"steps": 4}), "has no input 'steps'"),
        (Overrides(inputs={"width": 1}), "width must be at least 64"),
        (Overrides(seed=-1), "seed must be a whole number from 0"),
    ):
        with pytest.raises(InvalidInput, match=match):
            engine.generate(project, node_id, overrides=bad)
    assert len(project_jobs(project)) == 1  # the refused ones were never queued


def test_many_jobs_in_one_submission_all_or_nothing(engine: Engine, project: Project):
    node_id = add_shot(project)
    good = [JobRequest(quality="low", overrides=Overrides(seed=seed)) for seed in (1, 2)]
    with pytest.raises(InvalidInput, match="seed must be a whole number from 0"):
        engine.generate_many(project, node_id, [*good, JobRequest(overrides=Overrides(seed=-1))])
    assert project_jobs(project) == []  # one refused request: none queued
    jobs = engine.generate_many(project, node_id, good)
    takes = [job.result(timeout=TIMEOUT) for job in jobs]
    assert [take.provenance.seed for take in takes if take.provenance] == [1, 2]
    assert sorted(state.job_id for state in project_jobs(project)) == sorted(j.id for j in jobs)


def test_not_a_shot_fails_at_submit(engine: Engine, project: Project):
    pipe = project.graph.add_node("Pipeline", pipeline_id="t2i-draft")
    with pytest.raises(InvalidInput, match="only Shot nodes generate takes"):
        engine.generate(project, pipe.id)


def install_gpu_pipeline_for_high(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting for a bigger worker needs a GPU pipeline that is installed (one that is not
    fails at once, tests/engine/test_quality_map.py): ``t2i-gpu`` (24 GB at high), named by
    the workspace's quality map for generate-image/high."""
    folder = tmp_path / "pipelines" / "t2i-gpu"
    shutil.copytree(builtin_pipelines_dir() / "t2i-draft", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(id="t2i-gpu", draft=False, resources={"high": {"vram_gb": 24}})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder.parent)]))
    config = project.path.parent.parent / "workspace.json"
    settings = json.loads(config.read_text())
    settings["quality_map"] = {
        "generate-image": {"high": {"pipeline": "t2i-gpu:latest", "min_vram_gb": 20}}
    }
    config.write_text(json.dumps(settings))


def test_no_gpu_uses_the_draft_or_waits_for_the_autoscaler(
    engine: Engine, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # No pipeline connected: the quality map's GPU pipelines, on CPU-only workers.
    bare = project.graph.add_node("Shot", prompt="x", scene=1, shot=20)
    decision = engine.decide(project, bare.id, quality="high")
    assert decision.pipeline == "t2i-draft" and "no GPU worker" in (decision.notification or "")
    install_gpu_pipeline_for_high(project, tmp_path, monkeypatch)
    monkeypatch.setenv("STUDIO_AUTOSCALER", "1")
    monkeypatch.setenv("STUDIO_DISPATCH_POLICY", "queue")
    waiting = engine.decide(project, bare.id, quality="high")
    assert waiting.waits and waiting.vram_gb == 24 and waiting.pipeline == "t2i-gpu:latest"


def test_a_gpu_pipeline_no_worker_can_run_fails_at_once_instead_of_hanging(
    engine: Engine, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "pipelines" / "gpu-upscale"
    shutil.copytree(builtin_pipelines_dir() / "t2i-draft", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(id="gpu-upscale", task="upscale", resources={"low": {"vram_gb": 8}})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder.parent)]))
    node = project.graph.add_node("Shot", prompt="x", scene=1, shot=40)
    pipe = project.graph.add_node("Pipeline", pipeline_id="gpu-upscale")
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    with pytest.raises(NoWorkerFits, match="Low quality needs 8 GB"):
        engine.generate(project, node.id, quality="low")
    assert project_jobs(project) == []  # nothing was queued


def test_canvas_generate_button_shows_progress_and_take(engine: Engine, project: Project):
    node_id = add_shot(project)
    canvas = project.canvas()
    canvas.use_engine(engine)
    canvas._on_message(
        None, {"event": "client:start_generation", "payload": {"node_id": node_id}}, []
    )
    [job] = [j for j in engine._jobs.values() if j.project.path == project.path]
    job.result(timeout=TIMEOUT)
    sent = [m["event"] for m in canvas.sent]
    assert sent[0] == "server:node_state_updated" and sent[-1] == "server:task_success"
    status = canvas.node_status[node_id]
    assert status["state"] == "success"
    assert status["takes"] == ["SHOT-010_v01_take01.png"]
    # The worker's cached thumbnail, inlined for the browser (the canvas links, never makes it).
    success = canvas.sent[-1]["payload"]["result"]
    assert success["thumbnail_url"].startswith("data:image/jpeg;base64,")
    assert status["thumbnail_url"] == success["thumbnail_url"]
    # A new canvas (a reload, or another kernel) restores the state from the durable log.
    again = project.canvas()
    again.use_engine(engine)
    assert again.node_status[node_id]["state"] == "success"


def sleeper_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, mode: str) -> str:
    """The runner tests' misbehaving pipeline, with ``mode`` as its default (a Shot cannot
    set that input), found through STUDIO_PIPELINE_DIRS."""
    folder = tmp_path / "pipelines" / f"misbehave-{mode}"
    shutil.copytree(MISBEHAVE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["id"] = folder.name
    for spec in manifest["inputs"]:
        spec["default"] = {"mode": mode, "seconds": 30.0}.get(spec["name"], spec.get("default"))
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder.parent)]))
    return folder.name


def test_cancel_stops_a_running_pipeline(
    engine: Engine, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    pipeline = sleeper_pipeline(tmp_path, monkeypatch, mode="sleep")
    node = project.graph.add_node("Shot", prompt="x", scene=2, shot=10)
    pipe = project.graph.add_node("Pipeline", pipeline_id=pipeline)
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    job = engine.generate(project, node.id)
    deadline = time.monotonic() + TIMEOUT
    while "server:task_progress" not in names(job):  # running: the pipeline reports progress
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    job.cancel()
    with pytest.raises(JobFailed) as caught:
        job.result(timeout=TIMEOUT)
    assert caught.value.code == ErrorCode.CANCELED
    assert time.monotonic() - started < 10  # stopped, not run to its 30 s end
    assert names(job)[-2:] == ["server:task_failed", "server:node_state_updated"]
    assert job.state == "canceled" and project_jobs(project)[0].state == "canceled"
    assert project.takes(scene=2, shot=10) == []


def test_pipeline_failure_surfaces_the_runners_code(
    engine: Engine, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    pipeline = sleeper_pipeline(tmp_path, monkeypatch, mode="fail")
    node = project.graph.add_node("Shot", prompt="x", scene=2, shot=20)
    pipe = project.graph.add_node("Pipeline", pipeline_id=pipeline)
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    job = engine.generate(project, node.id)
    with pytest.raises(JobFailed) as caught:
        job.result(timeout=TIMEOUT)
    failed = job.events[-1]
    assert failed["event"] == "server:task_failed"
    assert failed["payload"]["code"] == caught.value.code == ErrorCode.MODEL_ERROR
    assert failed["payload"]["error"]


def test_an_upstream_shots_active_take_feeds_the_next_shot(engine: Engine, project: Project):
    """ "Generate the still, then animate it": Shot 20 (t2i-draft) → image → Shot 30
    (i2v-draft). The video take records which take it was made from."""
    graph = project.graph
    still = graph.add_node("Shot", prompt="harbour at dawn", scene=1, shot=20, seed=3)
    t2i = graph.add_node("Pipeline", pipeline_id="t2i-draft")
    graph.connect(t2i.id, "pipeline", still.id, "pipeline")
    clip = graph.add_node("Shot", scene=1, shot=30)
    i2v = graph.add_node("Pipeline", pipeline_id="i2v-draft")
    graph.connect(i2v.id, "pipeline", clip.id, "pipeline")
    graph.connect(still.id, "output", clip.id, "image")

    early = engine.generate(project, clip.id)  # nothing to animate yet
    with pytest.raises(JobFailed, match=r"SHOT-020 .* has no take yet: generate it first") as err:
        early.result(timeout=TIMEOUT)
    assert err.value.code == ErrorCode.INPUT_INVALID

    source = engine.generate(project, still.id).result(timeout=TIMEOUT)
    take = engine.generate(project, clip.id).result(timeout=TIMEOUT)
    assert take.name == "SHOT-030_v01_take01.mp4"
    codec, width, _height, fps, duration = video_facts(take.path)
    assert (codec, width, float(fps), round(duration, 1)) == ("h264", 1280, 24.0, 3.0)
    provenance = take.provenance
    assert provenance is not None and provenance.pipeline == "i2v-draft"
    assert provenance.inputs["image"] == source.name  # the take, not a worker's temp path
    assert f"03_Renders/SCENE_01/SHOT_030/{take.name}" in repo.lfs_files(project.path)


def test_a_refused_commit_fails_once_with_a_readable_error(engine: Engine, project: Project):
    """A deterministic failure (here: .png no longer routed to LFS) is not retried and
    reaches the user as a sentence with its hint, not a Python repr; no take is left."""
    attributes = project.path / ".gitattributes"
    attributes.write_text(
        "".join(line + "\n" for line in attributes.read_text().splitlines() if "png" not in line)
    )
    job = engine.generate(project, add_shot(project))
    with pytest.raises(JobFailed) as caught:
        job.result(timeout=TIMEOUT)
    assert caught.value.code == "ENGINE_ERROR"
    message = job.events[-1]["payload"]["error"]
    assert "LFS" in message and "hint:" in message and "Error(" not in message
    assert names(job).count("server:node_state_updated") == 2  # queued, generating: no retry
    assert project.takes(scene=1, shot=10) == []


def test_jobs_no_cluster_holds_are_recorded_as_lost(engine: Engine, project: Project):
    """What a restarted kernel finds in the log: a job of a cluster that is gone (silent for
    longer than such a job can take), a job its own scheduler no longer knows, one just
    queued, and a recent one of a scheduler that cannot be reached from here (which proves
    nothing: another network, a busy scheduler). Only the first two are dead; the next
    generation settles them before it is submitted."""
    node_id = add_shot(project)
    for job_id, scheduler, age, state in (
        ("gone", "tcp://127.0.0.1:9", 3600, "generating"),
        ("forgotten", engine.address, 60, "generating"),
        ("just-submitted", engine.address, 1, "queued"),  # may not have reached the scheduler
        ("out-of-sight", "tcp://127.0.0.1:9", 60, "generating"),
    ):  # fmt: skip
        line = job_log.record(
            job_id=job_id, event="server:node_state_updated", info={"scheduler": scheduler},
            payload={"node_id": node_id, "state": state, "task_id": job_id})  # fmt: skip
        line["at"] = (datetime.now(UTC) - timedelta(seconds=age)).isoformat()
        job_log.append(project.path, line)
    assert sorted(engine.reconcile(project)) == ["forgotten", "gone"]
    states = {j.job_id: (j.state, j.code) for j in job_log.jobs(project.path)}
    assert states["gone"] == states["forgotten"] == ("failed", "ENGINE_ERROR")
    assert states["just-submitted"] == ("queued", None)
    assert states["out-of-sight"] == ("generating", None)
    running = engine.generate(project, node_id)
    running.result(timeout=TIMEOUT)
    assert project_jobs(project)[-1].state == "success"
    assert engine.reconcile(project) == []  # "just-submitted" is left for a later look


def test_the_dispatch_policy_comes_from_the_project_the_workspace_or_the_environment(
    engine: Engine, project: Project, workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    install_gpu_pipeline_for_high(project, tmp_path, monkeypatch)
    monkeypatch.setenv("STUDIO_AUTOSCALER", "1")
    monkeypatch.delenv("STUDIO_DISPATCH_POLICY", raising=False)
    bare = project.graph.add_node("Shot", prompt="x", scene=1, shot=20).id
    assert not engine.decide(project, bare, quality="high").waits  # default: fallback
    config = workspace.path / "workspace.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "dispatch_policy": "queue"}))
    assert engine.decide(project, bare, quality="high").waits  # the workspace says queue
    monkeypatch.setenv("STUDIO_DISPATCH_POLICY", "fallback")
    assert not engine.decide(project, bare, quality="high").waits  # the environment wins
    manifest = project.manifest
    settings = manifest.project_settings.model_copy(update={"dispatch_policy": "queue"})
    project.save_manifest(manifest.model_copy(update={"project_settings": settings}))
    assert engine.decide(project, bare, quality="high").waits  # the project's own, over both


def crashing_task(**_: object) -> dict[str, object]:
    raise RuntimeError("the disk went away")


def waiting_task(*, after: dict[str, object], **_: object) -> dict[str, object]:
    return {"ok": True}  # never runs: what it waits for crashed


def test_a_job_whose_earlier_job_crashed_names_that_one_not_its_own_worker(
    client: Client, project: Project
):
    """A job waiting for another (a render for its post steps) is failed by Dask with the
    other's crash: its node says the job it waited for crashed, not that it did."""
    from studio.engine.dispatch import Dispatch
    from studio.engine.engine import Job

    engine = Engine(client=client, retries=0)

    def job(node_id: str) -> Job:
        decision = Dispatch(pipeline="test", quality="low", vram_gb=0.0)
        return Job(job_id=f"job-{node_id}", node_id=node_id, project=project,
                   decision=decision, seed=0)  # fmt: skip

    earlier, later = job("vr"), job("asm")
    engine.submit(project, earlier, crashing_task, key="crash-vr", info={}, resources=None)
    later.after = [earlier]
    engine.submit(project, later, waiting_task, key="wait-asm", info={}, resources=None,
                  after=earlier.future)  # fmt: skip
    for one in (earlier, later):
        with pytest.raises(JobFailed):
            one.result(timeout=TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while not all(s.finished for s in project_jobs(project)):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    errors = {s.node_id: s.error for s in project_jobs(project)}
    assert errors["vr"] == "RuntimeError: the disk went away"
    assert errors["asm"] == (
        "the job of 'vr' it waited for ended without an outcome (RuntimeError: the disk went "
        "away), so this one did not run"
    )
