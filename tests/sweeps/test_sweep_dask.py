"""Sweeps end to end on a real ``distributed.LocalCluster``: every cell an ordinary engine job
running the built-in ``t2i-draft`` through the ProcessRunner, real takes, real git + LFS
commits, the sweep's file reopened by another Project object."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from distributed import Client
from PIL import Image

from studio import Project
from studio.engine import Engine, project_jobs
from studio.engine import engine as engine_module
from studio.sweeps import Sweep, SweepError, SweepProgress, start_sweep
from studio.sweeps.store import SWEEPS_DIR
from tests.conftest import git_out
from tests.engine.clusters import add_draft_shot, thread_client
from tests.runner.media import MISBEHAVE

pytestmark = pytest.mark.slow
TIMEOUT = 120


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with thread_client(workers=2) as c:
        yield c


@pytest.fixture
def engine(client: Client, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("STUDIO_RUNNER", "process")  # no Docker daemon needed
    engine = Engine(client=client)
    monkeypatch.setattr(engine_module, "_default", engine)  # project.sweep's engine
    return engine


add_shot = add_draft_shot


def test_a_2x2_sweep_makes_four_takes_recorded_and_reopened(engine: Engine, project: Project):
    node_id = add_shot(project)
    sweep = project.sweep(node_id, prompt=["dawn market", "night market"],
                          params={"width": [64, 128]})  # fmt: skip
    assert len(sweep.cells) == 4 and all(sweep.job_ids)
    assert sweep.wait(timeout=TIMEOUT) is sweep
    assert sweep.progress() == SweepProgress(done=4, running=0, queued=0, failed=0, canceled=0)

    takes = sweep.takes()
    assert len({take.name for take in takes if take is not None}) == 4
    for cell, take in zip(sweep.cells, takes, strict=True):
        assert take is not None and take.ready
        provenance = take.provenance
        assert provenance is not None and provenance.sweep is not None
        assert (provenance.sweep.id, provenance.sweep.cell) == (sweep.id, cell.index)
        assert provenance.sweep.values == {"prompt": cell.prompt, "width": cell.inputs["width"]}
        # The cell's values reached the pipeline: its prompt, its width, the shot's seed.
        assert provenance.prompt == cell.prompt and provenance.seed == 7
        assert provenance.inputs["width"] == cell.inputs["width"]
        with Image.open(take.path) as image:
            assert image.width == cell.inputs["width"]
    # Prompt and width are creative inputs: four versions, not four takes of one.
    assert sorted(t.name for t in takes if t) == [
        f"SHOT-010_v0{v}_take01.png" for v in (1, 2, 3, 4)
    ]
    # The graph was not edited: the overrides were the jobs' own.
    data = project.graph.node(node_id).data
    assert data["prompt"] == "lanterns at dusk" and "width" not in data

    # Each cell is an ordinary job of the durable log, marked with its sweep.
    logged = {state.job_id: state for state in project_jobs(project)}
    for index, job_id in enumerate(sweep.job_ids):
        assert job_id is not None
        assert logged[job_id].info["sweep"] == {"id": sweep.id, "cell": index}

    results = sweep.results()
    assert list(results.columns) == ["prompt", "width", "take", "status", "seconds", "error",
                                     "job_id"]  # fmt: skip
    assert list(results.index) == [0, 1, 2, 3]
    assert list(results["width"]) == [64, 128, 64, 128]
    assert set(results["status"]) == {"success"}
    assert (results["seconds"] > 0).all()
    assert list(results["take"]) == [take.name for take in takes if take]

    # Committed like the project's other files; a new Project object (a restarted kernel)
    # finds the sweep and reads the same results from the job log and the takes.
    path = project.path / SWEEPS_DIR / f"{sweep.id}.json"
    assert git_out(project.path, "status", "--porcelain", "--", SWEEPS_DIR) == ""
    assert f"{SWEEPS_DIR}/{sweep.id}.json" in git_out(project.path, "ls-files", SWEEPS_DIR)
    saved = json.loads(path.read_text())
    assert [c["job_id"] for c in saved["cells"]] == sweep.job_ids
    [reopened] = Project(project.path).sweeps()
    assert isinstance(reopened, Sweep) and reopened.id == sweep.id
    assert reopened.axes == {"prompt": ["dawn market", "night market"], "width": [64, 128]}
    assert reopened.wait(timeout=1).progress().done == 4
    assert reopened.results().equals(results)
    shown = reopened._repr_html_()
    assert "<progress" in shown and 'value="4"' in shown and "4 done" in shown
    # And a fresh interpreter (a restarted kernel: no engine, no cluster) reads it the same.
    script = (
        "import json, sys, studio\n"
        "[sweep] = studio.Project(sys.argv[1]).sweeps()\n"
        "frame = sweep.wait(timeout=5).results()\n"
        "print(json.dumps([sweep.id, str(sweep.progress()), list(frame['take'])]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(project.path)],
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    assert json.loads(done.stdout.splitlines()[-1]) == [
        sweep.id, "4/4 (4 done, 0 running, 0 queued, 0 failed, 0 canceled)",
        list(results["take"]),
    ]  # fmt: skip


def test_a_zip_sweep_of_seeds_makes_takes_of_one_version(engine: Engine, project: Project):
    node_id = add_shot(project)
    sweep = start_sweep(project, node_id, engine=engine, seed=[11, 12], quality=["low", "low"],
                        mode="zip")  # fmt: skip
    sweep.wait(timeout=TIMEOUT)
    takes = [take for take in sweep.takes() if take is not None]
    # The seed is not creative: one version (the two cells run at once, in either order).
    names = sorted(t.name for t in takes)
    assert names == ["SHOT-010_v01_take01.png", "SHOT-010_v01_take02.png"]
    assert [t.provenance.seed for t in takes if t.provenance] == [11, 12]  # in cell order
    assert list(sweep.results()["quality"]) == ["low", "low"]


def test_bad_axes_submit_nothing_and_save_nothing(engine: Engine, project: Project):
    node_id = add_shot(project)
    with pytest.raises(SweepError, match=r"unknown input 'steps'.*declares prompt, seed"):
        project.sweep(node_id, params={"steps": [4, 8]})
    with pytest.raises(SweepError, match="zip needs axes of one length"):
        project.sweep(node_id, prompt=["a", "b"], seed=[1], mode="zip")
    with pytest.raises(SweepError, match=r"axis 'width': value 0 \(8\) must be at least 64"):
        project.sweep(node_id, params={"width": [8]})
    assert project_jobs(project) == []
    assert project.sweeps() == []
    assert not (project.path / SWEEPS_DIR).exists()


def test_cancel_stops_running_and_queued_cells(
    engine: Engine, project: Project, monkeypatch: pytest.MonkeyPatch
):
    # The tests' misbehaving pipeline, swept into sleeping 30 s: two cells run (two
    # workers), two wait; a cancel stops all four, and no take is left of any.
    monkeypatch.setenv("STUDIO_PIPELINE_DIRS", json.dumps([str(MISBEHAVE.parent)]))
    node = project.graph.add_node("Shot", prompt="x", scene=2, shot=10)
    pipe = project.graph.add_node("Pipeline", pipeline_id="misbehave")
    project.graph.connect(pipe.id, "pipeline", node.id, "pipeline")
    seconds = [30.0, 31.0, 32.0, 33.0]
    sweep = start_sweep(
        project, node.id, engine=engine, params={"mode": ["sleep"], "seconds": seconds}
    )
    deadline = time.monotonic() + TIMEOUT
    while sweep.progress().running < 2:
        assert time.monotonic() < deadline, sweep.progress()
        time.sleep(0.05)
    assert sweep.progress().queued == 2
    started = time.monotonic()
    assert sorted(sweep.cancel()) == sorted(j for j in sweep.job_ids if j)
    progress = sweep.wait(timeout=TIMEOUT).progress()
    assert time.monotonic() - started < 15  # stopped, not run to their 30 s end
    assert progress == SweepProgress(done=0, running=0, queued=0, failed=0, canceled=4)
    assert set(sweep.results()["status"]) == {"canceled"}
    assert project.takes(scene=2, shot=10) == []
    assert sweep.cancel() == []  # nothing left to stop
