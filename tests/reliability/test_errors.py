"""Finding 5 of issue 11: errors say what happened, and one bad thing never hides the rest.
A pipeline killed from outside is KILLED (with the signal), not OOM; a deeply nested or huge
WebSocket message gets a clear error and the socket stays; a broken project is listed as
broken; one bad sidecar marks one take broken; a dangling active take is reported and never
committed; a command run inside a project folder creates no workspace there."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from studio import Project, Workspace
from studio.pipelines import Pipeline
from studio.project import active_take
from studio.runner.base import Runner, create_job
from studio.runner.contract import Event, JobResult
from tests.conftest import git_out, run_studio
from tests.engine.test_reliability import processes_mentioning
from tests.jupyter_extension.test_ws import receive, send

SHOT_DIR = "03_Renders/SCENE_01/SHOT_010"


# --- a kill from outside --------------------------------------------------------------------


def run_until_progress(
    runner: Runner, pipeline: Pipeline, job: Path
) -> tuple[threading.Thread, list[JobResult]]:
    """Run ``job`` on a thread until its pipeline reports progress (it is running); the
    thread appends the result to the returned list when the job ends."""
    running = threading.Event()
    results: list[JobResult] = []

    def on_event(event: Event) -> None:
        if event.type == "progress":
            running.set()

    worker = threading.Thread(
        target=lambda: results.append(runner.run(pipeline, job, on_event=on_event))
    )
    worker.start()
    assert running.wait(120), "the pipeline never reported progress"
    return worker, results


@pytest.mark.slow
def test_a_pipeline_killed_from_outside_is_killed_not_out_of_memory(
    make_runner, misbehave, runner_kind: str, tmp_path: Path
):
    runner = make_runner(misbehave)
    job = create_job(misbehave, {"mode": "sleep", "seconds": 60}, job_dir=tmp_path / "job")
    worker, results = run_until_progress(runner, misbehave, job)
    if runner_kind == "process":
        pids = processes_mentioning(str(job))
        assert pids, "no pipeline process found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
    else:
        owner = {"label": f"studio.owner={runner.owner}"}
        [container] = runner.client.containers.list(filters=owner)
        container.kill()  # SIGKILL, as `docker kill` does
    worker.join(120)
    [result] = results
    assert result.error is not None and result.exit_code == 137
    assert "ran out of memory" not in result.error.message and "SIGKILL" in result.error.message
    assert result.error.code == "KILLED"


@pytest.mark.slow
def test_a_warm_worker_killed_from_outside_is_killed_not_out_of_memory(misbehave, tmp_path: Path):
    from studio.runner.warm import WarmRunner

    with WarmRunner("process") as warm:
        job = create_job(misbehave, {"mode": "sleep", "seconds": 60}, job_dir=tmp_path / "job")
        worker, results = run_until_progress(warm, misbehave, job)
        pids = set(processes_mentioning(str(misbehave.entrypoint))) & set(
            processes_mentioning("--warm")
        )
        assert pids, "no warm worker process found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        worker.join(60)
    [result] = results
    assert result.error is not None and result.error.code == "KILLED", result.error
    assert "SIGKILL" in result.error.message and "out of memory" not in result.error.message


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["one-shot", "warm"])
def test_a_sigkill_where_no_oom_counter_is_readable_says_it_cannot_tell(
    misbehave, tmp_path: Path, monkeypatch, mode: str
):
    from studio.runner import process
    from studio.runner.process import ProcessRunner
    from studio.runner.warm import WarmRunner

    # a machine with no memory.events / memory.oom_control (no memory controller mounted)
    monkeypatch.setattr(process, "CGROUP_ROOT", tmp_path / "no-cgroup-here")
    runner: Runner = WarmRunner("process") if mode == "warm" else ProcessRunner()
    with runner:
        job = create_job(misbehave, {"mode": "sleep", "seconds": 60}, job_dir=tmp_path / "job")
        worker, results = run_until_progress(runner, misbehave, job)
        warm_pids = set(processes_mentioning(str(misbehave.entrypoint))) & set(
            processes_mentioning("--warm")
        )
        pids = warm_pids if mode == "warm" else set(processes_mentioning(str(job)))
        assert pids, "no pipeline process found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        worker.join(60)
    [result] = results
    assert result.error is not None and result.error.code == "KILLED", result.error
    assert "SIGKILL" in result.error.message
    assert "not an out-of-memory kill" not in result.error.message  # nothing says it was not
    assert "whether it ran out of memory cannot be told here" in result.error.message
    assert "no OOM-kill counter" in result.error.message
    assert "quality" in result.error.hint  # what to do if it was one


# --- hostile WebSocket messages -------------------------------------------------------------


@pytest.fixture
def shot_film(film: Project) -> Project:
    film.graph.add_node("Shot", id="shot-1", prompt="lanterns", scene=1, shot=10)
    film.graph.save()
    return film


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("[" * 100_000, "nested deeper than"),
        ('{"event": "client:sync_request", "payload": ' * 5_000 + "{}" + "}" * 5_000, "nested"),
        (json.dumps({"event": "client:update_node_data",
                     "payload": {"node_id": "shot-1", "data": {"prompt": "x" * 2_000_000}}}),
         "at most"),
        # unclosed strings: a backtracking string pattern would stall the server's loop here
        ('["' + "a" * 64, "JSON"),
        ('{"event": "' + "x" * 100_000, "JSON"),
    ],
    ids=["100k-brackets", "nested-events", "2MB-message", "unclosed-string",
         "unclosed-100k-string"],
)  # fmt: skip
async def test_deep_or_huge_messages_get_an_error_and_keep_the_socket(
    connect, shot_film: Project, raw: str, says: str
):
    before = shot_film.canvas_path.read_text()
    ws = await connect()
    started = time.monotonic()
    await ws.write_message(raw)
    error = await receive(ws)
    assert time.monotonic() - started < 5, "the answer took too long (the loop was stalled)"
    assert error["event"] == "server:notification" and error["payload"]["level"] == "error"
    assert says in error["payload"]["message"]
    await send(ws, "client:sync_request")
    assert (await receive(ws))["event"] == "server:full_sync"  # still connected
    assert shot_film.canvas_path.read_text() == before


async def test_a_deeply_nested_rest_body_is_a_400(api, shot_film: Project):
    status, body = await api("PUT", "projects", "Night_Market", raw=b"[" * 100_000)
    assert status == 400 and "nested deeper than" in body["message"]


# --- broken projects are listed -------------------------------------------------------------


def break_manifest(project: Project) -> None:
    (project.path / "project.json").write_text('{"title": "no uuid"}')


def test_studio_list_shows_a_broken_project_with_its_error(workspace: Workspace):
    good = workspace.create_project("Good Film")
    bad = workspace.create_project("Bad Film")
    break_manifest(bad)
    done = run_studio("list", "--json", "-w", str(workspace.path))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["name"], r["broken"]) for r in rows] == [(good.name, False), (bad.name, True)]
    assert "project.json" in rows[1]["error"] and "uuid" in rows[1]["error"]
    human = run_studio("list", "-w", str(workspace.path))
    assert human.returncode == 0 and "broken" in human.stdout and bad.name in human.stdout


async def test_rest_lists_a_broken_project_with_its_error(api, ws_root: Workspace):
    ws_root.create_project("Good Film")
    break_manifest(ws_root.create_project("Bad Film"))
    status, body = await api("GET", "projects")
    assert status == 200
    assert [(p["id"], p["broken"]) for p in body] == [("Good_Film", False), ("Bad_Film", True)]
    assert "uuid" in body[1]["error"] and body[1]["path"] == "Projects/Bad_Film"


# --- a bad sidecar, a dangling active take ---------------------------------------------------


def three_takes(project: Project, make_png: Any) -> list[Any]:
    takes = []
    for seed in (1, 2, 3):
        take = project.new_take(scene=1, shot=10, ext="png", prompt="p", seed=seed)
        take.write_bytes(make_png())
        takes.append(take)
    project.commit_takes(takes)
    return takes


def test_one_garbage_sidecar_marks_one_take_broken(project: Project, workspace, make_png):
    takes = three_takes(project, make_png)
    takes[1].sidecar_path.write_text("garbage {")
    done = run_studio("takes", project.name, "1", "10", "--json", "-w", str(workspace.path))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["name"], r["state"]) for r in rows] == [
        (takes[0].name, "ready"), (takes[1].name, "broken"), (takes[2].name, "ready"),
    ]  # fmt: skip
    assert "malformed JSON" in rows[1]["error"] and takes[1].sidecar_path.name in rows[1]["error"]
    assert f"{takes[1].name} is broken" in done.stderr
    # and the next take is still numbered (one bad sidecar does not stop a generation)
    assert project.new_take(scene=1, shot=10, ext="png", prompt="p").number == 4


async def test_rest_takes_mark_one_take_broken(api, film: Project, make_png):
    takes = three_takes(film, make_png)
    takes[0].sidecar_path.write_text("[1, 2")
    status, body = await api("GET", "projects", "Night_Market", "takes", "1", "10")
    assert status == 200
    assert [(t["name"], t["error"] is not None) for t in body["takes"]] == [
        (takes[0].name, True), (takes[1].name, False), (takes[2].name, False),
    ]  # fmt: skip


def test_a_dangling_active_take_is_reported_and_never_committed(
    project: Project, workspace, make_png
):
    takes = three_takes(project, make_png)
    folder = project.shot_path(scene=1, shot=10)
    active_take.write_active(folder, "SHOT-010_v01_take09.png")  # no such take
    done = run_studio("takes", project.name, "1", "10", "--json", "-w", str(workspace.path))
    assert done.returncode == 0, done.stderr
    assert "active_take.json names SHOT-010_v01_take09.png" in done.stderr
    rows = json.loads(done.stdout)
    assert [r["name"] for r in rows if r["active"]] == [takes[2].name]  # shown, and said so
    view = project.shot_view(scene=1, shot=10)
    assert view.active_problem and "SHOT-010_v01_take09.png" in view.active_problem
    more = project.new_take(scene=1, shot=10, ext="png", prompt="p", seed=4)
    more.write_bytes(make_png())
    project.commit_takes([more])
    committed = git_out(project.path, "ls-files", "--", SHOT_DIR).split()
    assert f"{SHOT_DIR}/{more.name}" in committed
    assert f"{SHOT_DIR}/{active_take.ACTIVE_FILE}" not in committed
    doctor = run_studio("doctor", project.name, "--json", "-w", str(workspace.path))
    assert doctor.returncode == 1
    [finding] = json.loads(doctor.stdout)["findings"]
    assert finding["kind"] == "dangling_active_take"


async def test_rest_takes_report_a_dangling_active_take(api, film: Project, make_png):
    three_takes(film, make_png)
    active_take.write_active(film.shot_path(scene=1, shot=10), "SHOT-010_v01_take09.png")
    status, body = await api("GET", "projects", "Night_Market", "takes", "1", "10")
    assert status == 200 and "SHOT-010_v01_take09.png" in body["active_problem"]


# --- no workspace inside a project ----------------------------------------------------------


def test_studio_list_inside_a_project_folder_creates_nothing_there(
    project: Project, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("STUDIO_WORKSPACE", raising=False)
    done = run_studio("list", "--json", cwd=project.path)
    assert not (project.path / "workspace").exists()
    assert git_out(project.path, "status", "--porcelain") == ""
    assert done.returncode == 0, done.stderr
    assert [r["name"] for r in json.loads(done.stdout)] == [project.name]  # its workspace's


def test_a_workspace_is_never_created_inside_a_project(project: Project):
    from studio.errors import InvalidInput

    with pytest.raises(InvalidInput, match="inside the project"):
        Workspace(project.path / "workspace")
    assert not (project.path / "workspace").exists()
