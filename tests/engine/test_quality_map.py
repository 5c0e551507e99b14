"""PRD Table 4 on a cluster whose workers declare enough VRAM: an unconnected Shot runs the
installed model pipeline of its quality (with its weights in the model store), is refused at
once in the kernel while they are missing, and a cell naming a pipeline that is not
installed fails there too with one sentence (never on a worker after queueing); a cell the
workspace overrides with an installed pipeline generates."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster
from PIL import Image

from studio import Project, Workspace
from studio.engine import Engine, project_jobs
from studio.engine.inputs import Overrides
from studio.errors import StudioError
from studio.models import ModelMissing, ModelStore, workspace_store
from studio.models.store import record_digest
from studio.pipelines import PipelineNotFound
from tests.conftest import run_studio

pytestmark = pytest.mark.slow
TIMEOUT = 90
MISSING_LOW = (
    "quality map: generate-image/low names t2i-sd3, which is not installed — install it "
    "or override the cell in workspace.json"
)


def override_low_image(workspace: Workspace, pipeline: str) -> None:
    config = workspace.path / "workspace.json"
    settings = json.loads(config.read_text())
    settings["quality_map"] = {"generate-image": {"low": {"pipeline": pipeline, "min_vram_gb": 0}}}
    config.write_text(json.dumps(settings))


@pytest.fixture(scope="module")
def gpu_client() -> Iterator[Client]:
    # Two single-threaded workers that each declare a 24 GB GPU.
    with (
        LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
            resources={"VRAM": 24},
        ) as cluster,
        Client(cluster) as c,  # type: ignore[no-untyped-call]
    ):
        yield c


@pytest.fixture
def engine(gpu_client: Client, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("STUDIO_RUNNER", "process")
    return Engine(client=gpu_client)


def test_an_unconnected_shot_runs_table_4s_model_pipeline_with_its_weights_in_the_store(
    engine: Engine, workspace: Workspace, tiny_models: ModelStore
):
    project = workspace.create_project("Table Four", quality="low")
    shot = project.graph.add_node("Shot", prompt="a harbour at dawn", scene=1, shot=10).id
    with pytest.raises(ModelMissing) as caught:  # no weights yet: refused, nothing queued
        engine.generate(project, shot)
    assert "t2i-sd1.5 needs model sd1.5: studio models add sd1.5 " in caught.value.message
    assert project_jobs(project) == []
    workspace_store(workspace.path).add("sd1.5", tiny_models.path("sd1.5"))
    job = engine.generate(project, shot, overrides=Overrides(inputs={"width": 128, "steps": 2}))
    assert job.pipeline == "t2i-sd1.5:latest" and job.decision.notification is None
    take = job.result(timeout=TIMEOUT)
    assert take.provenance is not None and take.provenance.pipeline == "t2i-sd1.5"
    recorded = take.provenance.model_dump()
    weights = workspace_store(workspace.path).get("sd1.5")
    assert weights is not None and recorded["models"] == {"sd1.5": record_digest(weights)}
    generation = recorded["generation"]
    assert (generation["model"], generation["steps"], generation["seed"]) == (
        "sd1.5",
        2,
        take.provenance.seed,
    )
    assert generation["scheduler"] == "PNDMScheduler" and generation["guidance"] == 7.5
    with Image.open(take.path) as png:
        assert (png.format, png.size) == ("PNG", (128, 72))  # the project's 16:9


def test_a_cell_naming_a_missing_pipeline_fails_at_once_in_the_kernel(
    engine: Engine, workspace: Workspace
):
    override_low_image(workspace, "t2i-sd3:latest")
    project = Workspace(workspace.path).create_project("Table Four", quality="low")
    shot = project.graph.add_node("Shot", prompt="a harbour", scene=1, shot=10).id
    with pytest.raises(PipelineNotFound) as caught:
        engine.generate(project, shot)
    assert caught.value.message == MISSING_LOW
    assert project_jobs(project) == []  # nothing was queued
    assert project.takes(scene=1, shot=10) == []


def test_a_cell_overridden_with_an_installed_pipeline_generates_on_gpu_workers(
    engine: Engine, workspace: Workspace
):
    override_low_image(workspace, "t2i-draft:latest")
    project: Project = Workspace(workspace.path).create_project("Overridden", quality="low")
    shot = project.graph.add_node("Shot", prompt="a harbour", scene=1, shot=10).id
    job = engine.generate(project, shot)
    assert job.pipeline == "t2i-draft:latest" and job.decision.notification is None
    take = job.result(timeout=TIMEOUT)
    assert take.name == "SHOT-010_v01_take01.png"
    assert take.provenance is not None and take.provenance.pipeline == "t2i-draft"


def test_a_pinned_version_that_is_not_installed_is_refused_with_what_is(
    engine: Engine, workspace: Workspace
):
    project = workspace.create_project("Pinned", quality="low")
    graph = project.graph
    shot = graph.add_node("Shot", prompt="a harbour", scene=1, shot=10)
    pipe = graph.add_node("Pipeline", pipeline_id="t2i-draft", version="9.9.9")
    graph.connect(pipe.id, "pipeline", shot.id, "pipeline")
    with pytest.raises(PipelineNotFound) as caught:
        engine.generate(project, shot.id)
    assert "t2i-draft:9.9.9, but t2i-draft 0.1.0 is installed" in caught.value.message
    graph.update_node(pipe.id, version="0.1.0")  # the installed version, pinned: runs
    assert engine.generate(project, shot.id).result(timeout=TIMEOUT).ready


def test_opening_a_workspace_and_the_doctor_report_the_missing_cells(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    assert Workspace(tmp_path / "table-4").quality_map_problems() == []  # all installed
    override_low_image(Workspace(tmp_path / "fresh"), "t2i-sd3:latest")
    with caplog.at_level(logging.WARNING, logger="studio.workspace"):
        opened = Workspace(tmp_path / "fresh")
    assert opened.quality_map_problems() == [MISSING_LOW]
    assert MISSING_LOW in caplog.text
    assert "1 problem(s) with the pipelines this workspace uses" in caplog.text
    assert MISSING_LOW in html.unescape(opened._repr_html_())
    done = run_studio("doctor", "--workspace", str(opened.path))
    assert done.returncode == 0, done.stderr  # a warning, not a failure: drafts still run
    assert MISSING_LOW in " ".join(done.stderr.replace("warning: ", "").split())
    assert "t2i-sd1.5 needs model sd1.5: studio models add sd1.5" in done.stderr


def test_a_broken_pipeline_folder_is_reported_and_blocks_nothing_else(
    tmp_path: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    folder = tmp_path / "pipelines" / "half-written"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text('{"id": "half-written", ')
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(folder.parent)]))
    with caplog.at_level(logging.WARNING, logger="studio.workspace"):
        opened = Workspace(tmp_path / "ws")  # opens all the same
    assert any(
        p.startswith("pipeline half-written cannot be loaded:")
        for p in opened.quality_map_problems()
    )
    assert "half-written" in caplog.text
    done = run_studio("doctor", "--workspace", str(opened.path))
    assert done.returncode == 0 and "pipeline half-written cannot be loaded" in done.stderr
    # a Generate that does not need it still runs; one that names it says what is wrong
    project = opened.create_project("Unaffected", quality="low")
    graph = project.graph
    shot = graph.add_node("Shot", prompt="a harbour", scene=1, shot=10)
    pipe = graph.add_node("Pipeline", pipeline_id="t2i-draft")
    graph.connect(pipe.id, "pipeline", shot.id, "pipeline")
    assert engine.generate(project, shot.id).result(timeout=TIMEOUT).ready
    graph.update_node(pipe.id, pipeline_id="half-written")
    with pytest.raises(StudioError, match=r"half-written/manifest\.json"):
        engine.generate(project, shot.id)


def test_an_aspect_ratio_the_pipeline_does_not_make_is_refused_before_queueing(
    engine: Engine, workspace: Workspace
):
    from studio.errors import InvalidInput

    project = workspace.create_project("Three Two", quality="low", aspect_ratio="3:2")
    graph = project.graph
    shot = graph.add_node("Shot", prompt="a harbour", scene=1, shot=10)
    pipe = graph.add_node("Pipeline", pipeline_id="t2i-draft")
    graph.connect(pipe.id, "pipeline", shot.id, "pipeline")
    with pytest.raises(InvalidInput, match=r"'t2i-draft' cannot make .* ratio 3:2: it supports"):
        engine.generate(project, shot.id)
    assert project_jobs(project) == []  # nothing was queued
    project.update_settings(aspect_ratio="1:1")
    assert engine.generate(project, shot.id).result(timeout=TIMEOUT).ready
