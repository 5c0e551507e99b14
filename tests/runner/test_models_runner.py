"""A manifest's models reach the pipeline: read-only at /models/<id> in a container, their
store folder for a local process; a job without them fails before it starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.models import ModelStore
from studio.pipelines import Pipeline, get_pipeline, load_pipeline
from studio.runner.base import create_job
from studio.runner.contract import ErrorCode, JobSpec
from studio.runner.docker import container_options
from studio.runner.process import ProcessRunner

READS_MODEL = Path(__file__).parent / "pipelines" / "reads-model"


@pytest.fixture
def reads_model() -> Pipeline:
    return load_pipeline(READS_MODEL)


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    source = tmp_path / "tiny"
    source.mkdir()
    (source / "weights.txt").write_text("tiny weights")
    store = ModelStore(tmp_path / "store")
    store.add("tiny-model", source)
    return store


@pytest.mark.slow
def test_the_model_is_there_read_only_in_a_container(
    make_runner, runner_kind: str, reads_model: Pipeline, store: ModelStore, tmp_path: Path
):
    folder = store.path("tiny-model")
    job = create_job(reads_model, {}, job_dir=tmp_path / "job", models={"tiny-model": folder})
    runner = make_runner(reads_model)
    result = runner.run(reads_model, job)
    assert result.ok, result.error
    seen = json.loads((job / result.outputs["result"]).read_text())
    assert seen["weights"] == "tiny weights"
    assert seen["offline"] == "1"  # the libraries never look for weights on the network
    if runner_kind == "docker":
        assert seen["folder"] == "/models/tiny-model"
        assert seen["writable"] is False  # a read-only bind mount: the store stays as added
        assert store.verify() == []
    else:
        assert seen["folder"] == str(folder)


def test_a_job_without_its_model_fails_before_it_starts(reads_model: Pipeline, tmp_path: Path):
    job = create_job(reads_model, {}, job_dir=tmp_path / "job")
    with ProcessRunner() as runner:
        result = runner.run(reads_model, job)
    assert result.error is not None and result.error.code == ErrorCode.SETUP_FAILED
    assert "reads-model needs model tiny-model: studio models add tiny-model" in (
        result.error.message
    )
    assert result.exit_code is None  # never started


def test_container_options_mount_each_model_read_only():
    from docker.types import Mount

    pipeline = get_pipeline("t2i-draft")
    spec = JobSpec(job_id="a", pipeline="t2i-draft", inputs={}, models={"m1": "/srv/models/m1"})
    options = container_options(
        pipeline, spec, resources=pipeline.manifest.resources_for("low"), user="1000:1000",
        owner="o", pids_limit=64, mounts=[], host_cpus=1,
    )  # fmt: skip
    assert json.loads(options["environment"]["STUDIO_MODELS"]) == {"m1": "/models/m1"}
    assert options["environment"]["HF_HUB_OFFLINE"] == "1"
    assert options["network_mode"] == "none"
    # DockerRunner.options adds the models' mounts to the job's
    from studio.runner.docker import model_mounts

    assert model_mounts(spec.models) == [
        Mount(target="/models/m1", source="/srv/models/m1", type="bind", read_only=True)
    ]
