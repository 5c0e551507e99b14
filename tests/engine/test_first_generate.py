"""The first Generate on a machine where the pipeline's image was never built: the worker
builds it (once), the node shows why it takes longer ("building image ...: step N/M" as
ordinary progress, in the job log too), and the take arrives. Real Docker, a real cluster."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from studio import Project
from studio.engine import Engine, Job
from studio.engine import jobs as job_log
from studio.pipelines import builtin_pipelines_dir
from tests.engine.test_reliability import derive

pytestmark = pytest.mark.slow
TIMEOUT = 600  # a build from nothing: wheels downloaded, image built


@pytest.fixture
def unbuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker_client) -> Iterator[str]:
    """t2i-draft under a new id and image name (so nothing is built yet); the image is
    removed afterwards."""
    folder = tmp_path / "pipelines"
    folder.mkdir()
    name = f"t2i-first-{uuid.uuid4().hex[:8]}"
    image = f"studio-test/{name}:0.1.0"
    derive(builtin_pipelines_dir() / "t2i-draft", folder, name, width=96, image=image)
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder)]))
    monkeypatch.setenv("STUDIO_RUNNER", "docker")
    yield name
    import docker.errors

    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(image, force=True)


@pytest.fixture
def client(unbuilt: str) -> Iterator[Client]:
    with (
        LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,  # type: ignore[no-untyped-call]
    ):
        yield c


def test_the_first_generate_builds_the_image_and_shows_it_on_the_node(
    project: Project, unbuilt: str, client: Client, base_image: str, docker_client
):
    graph = project.graph
    shot = graph.add_node("Shot", prompt="a lighthouse", scene=1, shot=10)
    pipe = graph.add_node("Pipeline", pipeline_id=unbuilt)
    graph.connect(pipe.id, "pipeline", shot.id, "pipeline")
    engine = Engine(client=client)
    # Two at once on a two-thread worker: one build, both takes.
    jobs = [engine.generate(project, shot.id) for _ in range(2)]
    takes = sorted(job.result(timeout=TIMEOUT).name for job in jobs)
    assert takes == ["SHOT-010_v01_take01.png", "SHOT-010_v01_take02.png"]
    building = f"building image {unbuilt}: step"
    builders = [job for job in jobs if any(s.startswith(building) for s in steps_of(job))]
    assert len(builders) == 1, [steps_of(job) for job in jobs]  # one build for both
    [waiter] = [job for job in jobs if job is not builders[0]]
    assert not any(s.startswith(building) for s in steps_of(waiter))
    logged = [line["payload"].get("step", "") for line in job_log.read(project.path)]
    assert any(s.startswith(f"building image {unbuilt}: step") for s in logged)
    provenance = project.takes(scene=1, shot=10)[0].provenance
    assert provenance is not None and (provenance.model_extra or {})["runner"] == "warm-docker"
    image = docker_client.images.get(f"studio-test/{unbuilt}:0.1.0")  # the one it built
    assert provenance.image_digest == image.id and image.id.startswith("sha256:")


def steps_of(job: Job) -> list[str]:
    """The progress texts a job's node showed, in order."""
    return [m["payload"]["step"] for m in job.events if m["event"] == "server:task_progress"]
