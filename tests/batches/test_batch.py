"""Batch runs end to end: real papermill, a real ipykernel in the project's folder, real git
commits and the project's job log; the CLI as a user runs it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import nbformat
import pytest

import studio
from studio import Project
from studio.batches import BATCH_DIR, BatchFailed, BatchResult
from studio.engine import jobs as job_log
from studio.engine.pause import HELD_STEP
from studio.engine.settling import settle
from tests.conftest import git_out, run_studio
from tests.engine.clusters import thread_client

pytestmark = pytest.mark.slow

TAKE_CELL = """
import io
import subprocess
from pathlib import Path

from PIL import Image

import studio

project = studio.Project(Path.cwd())  # a batch run works in its project's folder
take = project.new_take(scene=1, shot=10, ext="png", prompt=prompt, seed=seed)
png = io.BytesIO()
Image.new("RGB", (16, 9), "navy").save(png, format="PNG")
take.write_bytes(png.getvalue())
project.commit_takes([take])
# This run is running, never settled as lost by a reader (project.jobs() settles first).
[this_run] = [j for j in project.jobs() if j.info.get("parameters", {}).get("seed") == seed]
assert this_run.state == "generating", this_run
# A run in progress is no change of the project (its notebook is written in a git-ignored
# place; another run that has just ended may show its notebook until it is committed).
git_status = ["git", "status", "--porcelain", "--untracked-files=all", "--", "04_Project_Files"]
changes = subprocess.run(git_status, capture_output=True, text=True, check=True).stdout
assert ".tmp" not in changes, changes
print(take.name, type(seed).__name__, type(ratio).__name__, type(draft).__name__)
"""


def write_notebook(path: Path, *cells: str) -> Path:
    """A notebook whose cell tagged ``parameters`` sets defaults, then ``cells``."""

    def cell(source: str, tags: list[str]) -> dict[str, object]:
        return {"cell_type": "code", "metadata": {"tags": tags}, "source": source,
                "outputs": [], "execution_count": None}  # fmt: skip

    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# a batch"},
            cell("prompt = 'default'\nseed = 0\nratio = 1.0\ndraft = False", ["parameters"]),
            *(cell(source, []) for source in cells),
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    path.write_text(json.dumps(notebook))
    return path


def outputs_text(path: Path) -> str:
    executed = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return "".join(
        o.get("text", "") + o.get("evalue", "")
        for c in executed.cells
        for o in c.get("outputs", [])
    )


def test_two_batch_runs_at_once_save_commit_and_log_their_notebooks(
    project: Project, tmp_path: Path
) -> None:
    notebook = write_notebook(tmp_path / "Render shots.ipynb", TAKE_CELL)
    results: dict[int, BatchResult] = {}

    def run(seed: int) -> None:
        results[seed] = studio.batch(
            notebook, {"prompt": f"lanterns {seed}", "seed": seed}, project=project
        )

    threads = [threading.Thread(target=run, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert sorted(results) == [1, 2]
    outputs = {result.output for result in results.values()}
    assert len(outputs) == 2  # unique names, both kept
    for result in results.values():
        assert result.status == "success" and result.failed_cell is None
        assert result.output.parent == project.path / BATCH_DIR
        assert result.output.name.startswith("Render_shots_2") and result.output.suffix == ".ipynb"
        assert "int float bool" in outputs_text(result.output)  # the defaults' types kept
        # Its own commit: only the executed notebook, on top of the take's commit.
        assert result.commit is not None
        changed = git_out(project.path, "show", "--name-only", "--format=", result.commit).split()
        assert changed == [result.output.relative_to(project.path).as_posix()]
    seeds = {t.provenance.seed for t in project.takes(scene=1, shot=10) if t.provenance}
    assert seeds == {1, 2}
    assert git_out(project.path, "status", "--porcelain", "--", BATCH_DIR) == ""
    assert list((project.path / BATCH_DIR).glob(".*")) == []  # no partial file left

    settle(project)  # what any reader does first: finished batch runs stay as they are
    states = {s.job_id: s for s in job_log.jobs(project.path)}
    for seed, result in results.items():
        state = states[result.job_id]
        assert state.state == "success" and state.info["kind"] == "batch"
        assert state.info["parameters"] == {"prompt": f"lanterns {seed}", "seed": seed}
        assert state.info["output"] == result.output.relative_to(project.path).as_posix()
        events = [r["payload"].get("state", r["event"]) for r in job_log.read(project.path)
                  if r["job_id"] == result.job_id]  # fmt: skip
        assert events == ["queued", "generating", "server:task_success"]


def test_a_failed_cell_is_named_saved_committed_and_logged(project: Project, tmp_path: Path):
    notebook = write_notebook(
        tmp_path / "broken.ipynb",
        "x = seed * 2",
        "# check the seed\nassert seed < 5, f'seed {seed} too big'",
    )
    with pytest.raises(BatchFailed) as raised:
        studio.batch(notebook, {"seed": 9}, project=project)
    result = raised.value.result
    assert raised.value.message == (
        "broken.ipynb: cell 3 (# check the seed) failed: AssertionError: seed 9 too big"
    )
    assert result.status == "failed" and result.output.is_file()
    assert "seed 9 too big" in outputs_text(result.output)  # saved with its error
    assert git_out(project.path, "log", "-1", "--format=%s").startswith(
        "Batch run of broken.ipynb: failed"
    )
    [state] = job_log.jobs(project.path)
    assert (
        state.state == "failed"
        and state.error == "cell 3 (# check the seed) failed: AssertionError: seed 9 too big"
    )
    assert state.info["failed_cell"] == {"index": 3, "label": "# check the seed",
                                         "error": "AssertionError: seed 9 too big"}  # fmt: skip


def test_the_cli_reads_p_like_papermill_and_prints_json(project: Project, tmp_path: Path):
    notebook = write_notebook(
        tmp_path / "cli.ipynb",
        "print(repr(prompt), repr(seed), repr(ratio), repr(draft))",
        "assert not draft, 'a draft'",
    )
    done = run_studio(
        "batch",
        str(notebook),
        "-p",
        "prompt",
        "a b",
        "-p",
        "seed",
        "3",
        "-p",
        "ratio",
        "0.5",
        "-p",
        "draft",
        "True",
        "--project",
        project.name,
        "--json",
        cwd=project.path.parent.parent,
    )
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] is False and summary["status"] == "failed"
    assert summary["parameters"] == {"prompt": "a b", "seed": 3, "ratio": 0.5, "draft": True}
    assert summary["failed_cell"] == {"index": 3, "label": "assert not draft, 'a draft'",
                                      "error": "AssertionError: a draft"}  # fmt: skip
    assert summary["duration_s"] > 0 and Path(summary["path"]).is_file()
    assert "'a b' 3 0.5 True" in outputs_text(Path(summary["path"]))
    assert "cell 3 (assert not draft, 'a draft') failed: AssertionError: a draft" in done.stderr
    # From the project's folder, without --project; a -p without its value is refused.
    refused = run_studio("batch", str(notebook), "-p", "seed", cwd=project.path)
    assert refused.returncode == 2 and "-p needs a NAME and a VALUE" in refused.stderr


def test_a_running_batch_is_canceled_from_the_queue_and_what_ran_is_kept(
    project: Project, tmp_path: Path
) -> None:
    notebook = write_notebook(
        tmp_path / "long.ipynb",
        "print('first cell ran')",
        "# wait for the cancel\nimport time\nfor _ in range(600):\n    time.sleep(0.1)",
        "print('never runs')",
    )
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            studio.batch(notebook, project=project)
        except BaseException as exc:  # the test's own thread: handed back to the test
            outcome.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    queue = project.queue()
    deadline = time.monotonic() + 60
    while not any(j.state == "generating" for j in queue.jobs):
        assert time.monotonic() < deadline, queue.jobs
        time.sleep(0.1)
    time.sleep(1.0)  # into the long cell (an interrupt before it is repeated anyway)
    [running] = queue.jobs
    assert queue.cancel(running.job_id) == f"job {running.job_id} is being stopped"
    runner.join(timeout=30)
    assert not runner.is_alive(), "the canceled batch run did not stop"
    [raised] = outcome
    assert isinstance(raised, BatchFailed), raised
    result = raised.result
    assert result.status == "canceled"
    assert raised.message == "long.ipynb: canceled in cell 3 (# wait for the cancel)"
    text = outputs_text(result.output)
    assert "first cell ran" in text and "never runs" not in text  # what ran is kept
    assert git_out(project.path, "log", "-1", "--format=%s").startswith(
        "Batch run of long.ipynb: canceled"
    )
    [state] = job_log.jobs(project.path)
    assert state.state == "canceled" and state.finished, state
    assert state.error == "canceled in cell 3 (# wait for the cancel)"


CLUSTER_CELL = """
import os
from pathlib import Path

import studio
from studio.engine.engine import default_engine

project = studio.Project(Path.cwd())
client = default_engine(project).client  # the kernel's engine: the cluster the run is on
assert client.scheduler.address == os.environ["STUDIO_SCHEDULER"], client
# The run's task seceded from its worker's only thread: a job of its own can run there.
assert client.submit(sum, [seed, 1], pure=False).result(timeout=60) == seed + 1
print("on the cluster", os.getpid())
"""


def test_a_batch_runs_on_the_cluster_with_its_jobs_on_the_same_cluster(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the worker's task tells the kernel a scheduler (the notebook checks it has one).
    monkeypatch.delenv("STUDIO_SCHEDULER", raising=False)
    notebook = write_notebook(tmp_path / "On cluster.ipynb", CLUSTER_CELL)
    with thread_client(tcp=True) as client:  # one worker with one thread, the kernel's too
        result = studio.batch(notebook, {"seed": 4}, project=project, cluster=client)
    assert result.status == "success", result
    assert "on the cluster" in outputs_text(result.output)
    [state] = job_log.jobs(project.path)
    assert state.state == "success" and state.info["where"] == "cluster", state
    assert git_out(project.path, "log", "-1", "--format=%s").startswith(
        "Batch run of On cluster.ipynb: success"
    )

    # The CLI's --cluster: the workspace's cluster (here STUDIO_SCHEDULER's).
    with thread_client(tcp=True) as client:
        address = str(client.scheduler_info()["address"])
        done = run_studio("batch", str(notebook), "-p", "seed", "5", "--cluster", "--json",
                          env={"STUDIO_SCHEDULER": address}, cwd=project.path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "success" and summary["parameters"] == {"seed": 5}


def test_a_batch_on_the_cluster_waits_while_the_queue_is_paused(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STUDIO_SCHEDULER", raising=False)
    notebook = write_notebook(tmp_path / "Held.ipynb", "print('ran', seed)")
    queue = project.queue()
    queue.pause()
    results: list[BatchResult] = []
    with thread_client(tcp=True) as client:
        runner = threading.Thread(
            target=lambda: results.append(studio.batch(notebook, project=project, cluster=client))
        )
        runner.start()
        deadline = time.monotonic() + 60
        while not [j for j in queue.jobs if j.step == HELD_STEP]:
            assert time.monotonic() < deadline, queue.jobs
            time.sleep(0.1)
        [held] = queue.jobs
        assert held.state == "queued" and runner.is_alive()
        queue.resume()
        runner.join(timeout=60)
    assert not runner.is_alive() and results[0].status == "success"
    assert "ran 0" in outputs_text(results[0].output)
