"""A pipeline whose weights are missing is refused in the kernel before queueing, with the
command that adds them; once added, the job runs with its model. A real LocalCluster."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from studio import Project
from studio.engine import Engine, project_jobs
from studio.models import ModelMissing, ModelStore, workspace_store
from studio.pipelines import builtin_pipelines_dir

pytestmark = pytest.mark.slow
TIMEOUT = 60


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,  # type: ignore[no-untyped-call]
    ):
        yield c


@pytest.fixture
def engine(client: Client, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("STUDIO_RUNNER", "process")
    return Engine(client=client)


def shot_needing_a_model(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A Shot fed by ``t2i-needs-model``: the draft pipeline whose manifest names a model."""
    folder = tmp_path / "pipelines" / "t2i-needs-model"
    shutil.copytree(builtin_pipelines_dir() / "t2i-draft", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(id="t2i-needs-model", draft=False, models=["tiny-model"])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder.parent)]))
    node = project.graph.add_node("Shot", prompt="x", scene=1, shot=10, seed=1)
    pipe = project.graph.add_node("Pipeline", pipeline_id="t2i-needs-model")
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    return node.id


def test_missing_weights_are_refused_before_queueing_then_run_once_added(
    engine: Engine, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    node_id = shot_needing_a_model(project, tmp_path, monkeypatch)
    with pytest.raises(ModelMissing) as refused:
        engine.generate(project, node_id, quality="low")
    assert str(refused.value).startswith(
        "t2i-needs-model needs model tiny-model: studio models add tiny-model /path/to/tiny-model"
    )
    assert project_jobs(project) == []  # nothing was logged, nothing queued
    # The canvas's Generate goes through the same engine call: refused the same way.
    canvas = project.canvas()
    canvas.use_engine(engine)
    canvas._on_message(
        None, {"event": "client:start_generation", "payload": {"node_id": node_id}}, []
    )
    assert project_jobs(project) == []
    said = json.dumps(list(canvas.sent))
    assert "needs model tiny-model" in said

    source = tmp_path / "tiny"
    source.mkdir()
    (source / "weights.bin").write_bytes(b"\0" * 16)
    store: ModelStore = workspace_store(project.path.parent.parent)
    store.add("tiny-model", source)
    job = engine.generate(project, node_id, quality="low")
    take = job.result(timeout=TIMEOUT)
    assert take.ready and [s.state for s in project_jobs(project)] == ["success"]


def test_a_projects_own_model_serves_too(
    engine: Engine, project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from studio.models import project_store

    node_id = shot_needing_a_model(project, tmp_path, monkeypatch)
    lora = tmp_path / "tiny.safetensors"
    lora.write_bytes(b"\1" * 16)
    project_store(project.path).add("tiny-model", lora)
    decision = engine.decide(project, node_id, quality="low")
    assert decision.pipeline == "t2i-needs-model"
