"""The post nodes on the engine: Generate on a Video restoration / Super resolution node runs
the real draft pipelines (restore-ffmpeg, sr-lanczos) in Docker on a real Dask cluster, on
the upstream take or output, through the Shot's path (dispatch, durable job log, events,
commit through LFS); ``generate_pending`` runs a stale chain in order; refusals come before
anything is queued; a dead attempt's output is settled like a take."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from distributed import Client, LocalCluster

from studio import Project
from studio.engine import Engine, project_jobs
from studio.engine import jobs as job_log
from studio.engine.cluster import CPU_RESOURCE
from studio.engine.rendering import render
from studio.engine.tasks import recover_attempt
from studio.errors import InvalidInput
from studio.pipelines import get_pipeline
from studio.project import repo
from studio.project.outputs import list_outputs, reserve_output
from studio.project.provenance import utc_now
from studio.runner.contract import ErrorCode, JobFailed
from tests.conftest import git_out
from tests.engine.films import probe, two_shot_edit
from tests.project.media import image_take, video_take
from tests.runner.media import video_facts

pytestmark = pytest.mark.slow
TIMEOUT = 300


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        pytest.MonkeyPatch.context() as patch,
        LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
            resources={CPU_RESOURCE: 1},  # no GPU: renders may run here too
        ) as cluster,
        Client(cluster) as c,  # type: ignore[no-untyped-call]
    ):
        patch.setenv("STUDIO_RUNNER", "docker")  # the workers' runners are made on first use
        yield c


@pytest.fixture(scope="module")
def post_images(build_pipeline_image) -> None:
    """The two draft post pipelines' images, built through the product's on-demand path."""
    for pipeline_id in ("restore-ffmpeg", "sr-lanczos"):
        build_pipeline_image(get_pipeline(pipeline_id))


@pytest.fixture
def engine(client: Client, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("STUDIO_RUNNER", "docker")
    return Engine(client=client)


def chain(project: Project) -> tuple[str, str, str]:
    """Shot (scene 1, shot 10) -> Video restoration -> Super resolution."""
    graph = project.graph
    shot = graph.add_node("Shot", scene=1, shot=10).id
    vr = graph.add_node("VideoRestoration", strength=0.8).id
    sr = graph.add_node("SuperResolution", scale=2.0).id
    graph.connect(shot, "output", vr, "input")
    graph.connect(vr, "output", sr, "input")
    return shot, vr, sr


def test_each_post_node_runs_its_pipeline_in_docker_on_its_upstream_output(
    engine: Engine, project: Project, post_images: None, docker_client
):
    take = video_take(project, size="160x90", seconds=1.0)
    _, vr, sr = chain(project)
    restoring = engine.generate(project, vr)
    restored = restoring.result(timeout=TIMEOUT)
    assert restored.name == "SHOT-010_v01_take01.restore_v01_take01.mp4"
    assert video_facts(restored.path)[:3] == ("h264", 160, 90)
    events = [m["event"] for m in restoring.events]
    assert events[0] == events[1] == "server:node_state_updated"  # queued, generating
    assert "server:task_progress" in events and events[-1] == "server:task_success"
    result = restoring.events[-1]["payload"]["result"]
    assert result["take"] == restored.name  # the event names the output like a take
    assert result["thumbnail"] == f"05_Cache/thumbnails/{restored.name}.jpg"  # a video's frame
    assert (project.path / result["thumbnail"]).read_bytes()[:2] == b"\xff\xd8"

    upscaled = engine.generate(project, sr).result(timeout=TIMEOUT)
    assert upscaled.name == "SHOT-010_v01_take01.restore_v01_take01.sr_v01_take01.mp4"
    codec, width, height, _, duration = video_facts(upscaled.path)
    assert (codec, width, height) == ("h264", 320, 180) and duration == pytest.approx(1.0, abs=0.1)
    provenance = upscaled.provenance
    assert provenance is not None
    extra = provenance.model_extra or {}
    assert provenance.pipeline == "sr-lanczos" and extra["runner"] == "docker"
    image = docker_client.images.get(get_pipeline("sr-lanczos").manifest.image_name)
    assert provenance.image_digest == image.id and image.id.startswith("sha256:")
    assert provenance.inputs == {"media": restored.name, "scale": 2.0}
    assert (extra["source"], extra["post_node"], extra["settings"]) == (
        restored.name, sr, {"scale": 2.0})  # fmt: skip
    lfs = repo.lfs_files(project.path)
    for made in (take, restored, upscaled):
        assert f"03_Renders/SCENE_01/SHOT_010/{made.name}" in lfs
    assert git_out(project.path, "status", "--porcelain", "--", "03_Renders") == ""
    assert {(j.node_id, j.state) for j in project_jobs(project)} == {
        (vr, "success"), (sr, "success")}  # fmt: skip


def test_generate_pending_runs_a_stale_chain_in_order_and_the_edit_cuts_its_output(
    engine: Engine, project: Project, post_images: None
):
    video_take(project, size="96x54", seconds=1.0)
    _, vr, sr = chain(project)
    assembler = project.graph.add_node("VSEAssembler", frame_rate="24")
    project.graph.connect(sr, "output", assembler.id, "clips")
    pending = project.sequence().pending
    assert [step.node_id for step in pending] == [vr, sr]
    jobs = engine.generate_pending(project, pending)
    assert [job.node_id for job in jobs] == [vr, sr]
    outputs = [job.result(timeout=TIMEOUT) for job in jobs]
    assert outputs[1].name == f"{outputs[0].path.stem}.sr_v01_take01.mp4"  # SR ran on VR's new one
    sequence = project.sequence()
    assert sequence.pending == ()
    assert sequence.clips[0].media is not None
    assert sequence.clips[0].media.path.endswith(outputs[1].name)
    assert (sequence.clips[0].media.width, sequence.clips[0].media.height) == (192, 108)
    assert engine.generate_pending(project, [sr]) == []  # nothing stale: nothing runs

    project.graph.update_node(vr, strength=0.2)  # VR stale, so SR after it too
    assert [s.node_id for s in project.sequence().pending] == [vr, sr]
    again = engine.generate_pending(project, [sr])  # SR alone asks for VR first
    assert [job.node_id for job in again] == [vr, sr]
    remade = [job.result(timeout=TIMEOUT) for job in again]
    assert remade[0].name == "SHOT-010_v01_take01.restore_v02_take01.mp4"  # new settings: v02
    assert remade[1].name == "SHOT-010_v01_take01.restore_v02_take01.sr_v01_take01.mp4"
    assert project.sequence().pending == ()


def test_canceling_a_step_stops_its_pipeline_and_the_step_after_it_does_not_run(
    engine: Engine, project: Project, post_images: None
):
    video_take(project, size="640x360", fps=24, seconds=30.0)  # a restoration of some seconds
    _, vr, sr = chain(project)
    restoring, upscaling = engine.generate_pending(project, [sr])
    deadline = time.monotonic() + TIMEOUT
    while not any(m["event"] == "server:task_progress" for m in restoring.events):
        assert time.monotonic() < deadline, restoring.events
        time.sleep(0.1)
    restoring.cancel()
    with pytest.raises(JobFailed) as canceled:
        restoring.result(timeout=TIMEOUT)
    assert canceled.value.code == ErrorCode.CANCELED
    with pytest.raises(JobFailed) as skipped:
        upscaling.result(timeout=TIMEOUT)
    assert "the post step before this one did not make its output" in str(skipped.value)
    assert list_outputs(project.path, scene=1, shot=10) == []  # nothing partial left
    states = {j.node_id: j.state for j in project_jobs(project)}
    assert states == {vr: "canceled", sr: "failed"}


def test_refusals_come_before_anything_is_queued(engine: Engine, project: Project):
    graph = project.graph
    lonely = graph.add_node("SuperResolution").id
    with pytest.raises(InvalidInput, match="connect a shot first"):
        engine.generate(project, lonely)
    _, vr, sr = chain(project)
    with pytest.raises(InvalidInput, match="generate SHOT-010 first"):
        engine.generate(project, vr)
    with pytest.raises(InvalidInput, match="generate SHOT-010 first"):
        engine.generate_pending(project, [sr])
    image_take(project)
    with pytest.raises(InvalidInput, match=r"takes a video, but Shot SHOT-010 .* gives an image"):
        engine.generate(project, vr)
    assert project_jobs(project) == []


def test_a_dead_attempts_output_is_settled_like_a_take(project: Project):
    take = video_take(project)
    complete = reserve_output(project.path, source=take, ext="mp4", job_id="j1", kind="sr",
                              pipeline="sr-lanczos", inputs={"media": take.name})  # fmt: skip
    complete.write_from(take.path)
    complete.record(finished_at=utc_now())  # written and recorded: only its commit is missing
    empty = reserve_output(project.path, source=take, ext="mp4", job_id="j1", kind="restore",
                           pipeline="restore-ffmpeg", inputs={"video": take.name})  # fmt: skip
    found = recover_attempt(project, scene=1, shot=10, job_id="j1", by="settle")
    assert found == complete
    assert repo.is_committed(project.path, complete.path)
    provenance = complete.provenance
    assert provenance is not None and provenance.recovered_by == "settle"
    assert not empty.path.exists() and not empty.sidecar_path.exists()
    assert [o.name for o in list_outputs(project.path, scene=1, shot=10)] == [complete.name]


def test_the_render_runs_a_stale_post_node_first_then_cuts_its_output(
    engine: Engine, project: Project, post_images: None, tmp_path
):
    two_shot_edit(project, tmp_path / "media")  # s10, s20 -> Assembler "asm"
    graph = project.graph
    graph.add_node("VideoRestoration", id="vr", strength=0.5)
    graph.disconnect(next(e.id for e in graph.edges if e.source == "s20"))
    graph.connect("s20", "output", "vr", "input")
    graph.connect("vr", "output", "asm", "clips")
    graph.update_node("asm", order=["s10", "vr"])
    assert [step.node_id for step in project.sequence().pending] == ["vr"]

    job = render(engine, project)  # submitted at once: the cluster runs "vr" first
    assert job.export is None
    film = job.result(timeout=TIMEOUT)
    restored = "SHOT-020_v01_take01.restore_v01_take01.mp4"
    assert (project.path / "03_Renders/SCENE_01/SHOT_020" / restored).is_file()
    sequence = project.sequence()
    assert sequence.pending == () and sequence.clips[1].name == restored
    assert f"CLIP NAME:  {restored}" in film.edl.read_text()  # the EDL names the output
    assert probe(film.path)["frames"] == sequence.duration
    steps = [(line["payload"].get("state"), line["payload"].get("step", ""))
             for line in job_log.read(project.path) if line["job_id"] == job.id]  # fmt: skip
    # said in its first record, before the task exists: no later record can come before it
    assert steps[0] == ("queued", "waiting for VideoRestoration 'vr' to run first")
    assert {(j.node_id, j.state) for j in project_jobs(project)} == {
        ("vr", "success"), ("asm", "success")}  # fmt: skip


def test_canceling_a_render_that_waits_for_a_post_step_stops_that_step_too(
    engine: Engine, project: Project, post_images: None, tmp_path
):
    """Cancel while the render waits for the post step it started: the step is canceled
    (not run to the end for a render nobody wants), then the render; nothing is exported."""
    two_shot_edit(project, tmp_path / "media", seconds=(2, 30))
    graph = project.graph
    graph.add_node("VideoRestoration", id="vr", strength=0.5)
    graph.disconnect(next(e.id for e in graph.edges if e.source == "s20"))
    graph.connect("s20", "output", "vr", "input")
    graph.connect("vr", "output", "asm", "clips")
    graph.update_node("asm", order=["s10", "vr"])

    job = render(engine, project)
    job.cancel()
    with pytest.raises(JobFailed) as canceled:
        job.result(timeout=TIMEOUT)
    assert canceled.value.code == ErrorCode.CANCELED
    assert {(j.node_id, j.state) for j in project_jobs(project)} == {
        ("vr", "canceled"), ("asm", "canceled")}  # fmt: skip
    assert list_outputs(project.path, scene=1, shot=20) == []
    assert not list((project.path / "04_Project_Files/EDLs").glob("*.edl"))


def test_a_render_while_its_post_step_generates_waits_for_that_job_not_a_second_one(
    engine: Engine, project: Project, post_images: None, tmp_path
):
    """Generate clicked on the post node, then Render: the render waits for that job (one
    output, one run), and a Cancel of the render leaves the job its user started alone."""
    two_shot_edit(project, tmp_path / "media", seconds=(2, 6))
    graph = project.graph
    graph.add_node("VideoRestoration", id="vr", strength=0.5)
    graph.disconnect(next(e.id for e in graph.edges if e.source == "s20"))
    graph.connect("s20", "output", "vr", "input")
    graph.connect("vr", "output", "asm", "clips")
    graph.update_node("asm", order=["s10", "vr"])

    restoring = engine.generate(project, "vr")
    job = render(engine, project)
    assert job_log.snapshot(project.path).jobs[job.id].info["after"] == []
    film = job.result(timeout=TIMEOUT)
    [output] = list_outputs(project.path, scene=1, shot=20)
    assert restoring.result(timeout=TIMEOUT) == output
    assert f"CLIP NAME:  {output.name}" in film.edl.read_text()
    assert sorted(j.node_id for j in project_jobs(project)) == ["asm", "vr"]


def test_a_render_after_the_post_nodes_settings_changed_runs_it_again_with_them(
    engine: Engine, project: Project, post_images: None, tmp_path
):
    """Generate clicked, then a setting changed, then Render: the running job makes the old
    settings' output, so the render runs the step again with the new ones and cuts that."""
    two_shot_edit(project, tmp_path / "media", seconds=(2, 4))
    graph = project.graph
    graph.add_node("VideoRestoration", id="vr", strength=0.5)
    graph.disconnect(next(e.id for e in graph.edges if e.source == "s20"))
    graph.connect("s20", "output", "vr", "input")
    graph.connect("vr", "output", "asm", "clips")
    graph.update_node("asm", order=["s10", "vr"])

    engine.generate(project, "vr")
    graph.update_node("vr", strength=0.9)
    film = render(engine, project).result(timeout=TIMEOUT)
    cut = project.sequence().clips[1].name
    assert f"CLIP NAME:  {cut}" in film.edl.read_text()
    [output] = [o for o in list_outputs(project.path, scene=1, shot=20) if o.name == cut]
    provenance = output.provenance
    assert provenance is not None and (provenance.model_extra or {})["settings"] == {
        "strength": 0.9}  # fmt: skip
