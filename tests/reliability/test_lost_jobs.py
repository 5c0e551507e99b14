"""Findings 1 and 2 of issue 11: a client killed with SIGKILL while its in-process cluster's
worker holds a complete, uncommitted take. Whoever reads the jobs or writes the project next
(a script's ``project.jobs()``, ``project.generate()`` from another process, ``studio takes``,
the server's sync) settles it: the take is committed (marked recovered) and the job ends
"success (recovered)", never "generating" forever or "failed" beside an orphaned take.

Real processes: the client is a Python script with its own local Dask cluster (no team
scheduler), real pipeline processes (STUDIO_RUNNER=process), real git + LFS. The moment of the
kill is made exact without touching the code under test: the test holds the project's commit
lock, so the worker stops right before ``git add``, take written and recorded."""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from studio import Project
from studio.engine import jobs as job_log
from studio.pipelines import builtin_pipelines_dir
from studio.project import repo
from tests.conftest import git_out, run_studio
from tests.engine.test_reliability import add_shot, derive, pipeline_dirs
from tests.reliability.faults import TIMEOUT, kill_minus_9, run_script, start_script, wait_until

pytestmark = pytest.mark.slow
__all__ = ["pipeline_dirs"]  # the fixture (environment for workers: process runner, pipelines)
SHOT_DIR = "03_Renders/SCENE_01/SHOT_010"

CLIENT = """
import json, os, sys, time
import studio
from studio.engine import default_engine

if __name__ == "__main__":
    project = studio.Project({path!r})
    job = project.generate({node!r}, quality="low")  # no STUDIO_SCHEDULER: a local cluster
    workers = list(default_engine(project).client.run(os.getpid).values())
    print(json.dumps({{"job": job.id, "workers": workers}}), flush=True)
    time.sleep(600)
"""


@dataclass(frozen=True)
class Killed:
    job_id: str
    take: str


def kill_client_at_commit(project: Project, node_id: str, folder: Path) -> Killed:
    """Start a client that generates one take, SIGKILL it (and its cluster) once the take is
    complete and recorded but not committed; return the job and the take left behind."""
    assert project.graph.save()
    started: dict[str, Any] = {}
    with repo.commit_lock(project.path):  # the worker's commit waits here
        client = start_script(CLIENT.format(path=str(project.path), node=node_id), folder=folder)
        try:
            assert client.stdout is not None
            started.update(json.loads(client.stdout.readline() or "{}"))
            assert started, client.stderr.read() if client.stderr else "no output"

            def complete_take() -> str | None:
                for take in project.takes(scene=1, shot=10):
                    provenance = take.provenance
                    if (
                        provenance
                        and provenance.job_id == started["job"]
                        and take.ready
                        and (provenance.finished_at is not None)
                    ):
                        return take.name
                return None

            name = wait_until(complete_take, what="the complete, uncommitted take")
        finally:
            kill_minus_9(
                client, also=tuple(started.get("workers", ())) if "started" in dir() else ()
            )
    return Killed(started["job"], name)


def assert_settled(project: Project, killed: Killed) -> None:
    """The killed job's take is committed through LFS, marked recovered; the job is over."""
    assert git_out(project.path, "status", "--porcelain", "--", SHOT_DIR) == ""
    assert f"{SHOT_DIR}/{killed.take}" in repo.lfs_files(project.path)
    [take] = [t for t in project.takes(scene=1, shot=10) if t.name == killed.take]
    provenance = take.provenance
    assert provenance is not None and provenance.recovered_at is not None
    assert provenance.recovered_by == "settle"
    [state] = [j for j in job_log.jobs(project.path) if j.job_id == killed.job_id]
    assert (state.state, state.take, state.summary) == ("success", killed.take,
                                                        "success (recovered)")  # fmt: skip
    assert not job_log.attempt_marker(project.path, killed.job_id).exists()


@pytest.fixture
def tiny(pipeline_dirs: Path) -> str:
    return derive(builtin_pipelines_dir() / "t2i-draft", pipeline_dirs, "t2i-tiny", width=128)


@pytest.fixture
def killed(project: Project, tiny: str, tmp_path: Path) -> Killed:
    return kill_client_at_commit(project, add_shot(project, tiny), tmp_path)


def test_the_take_is_left_complete_and_uncommitted(project: Project, killed: Killed):
    """What the kill leaves (the state the issue found), before anyone looks."""
    status = git_out(project.path, "status", "--porcelain", "--", SHOT_DIR)
    assert f"?? {SHOT_DIR}/" in status
    [state] = job_log.jobs(project.path)  # the raw log, not settled
    assert state.state == "generating"


def test_a_script_reading_jobs_settles_it(project: Project, killed: Killed, tmp_path: Path):
    code = f"""
import json, studio
if __name__ == "__main__":
    jobs = studio.Project({str(project.path)!r}).jobs()
    print(json.dumps([[j.job_id, j.state, j.take] for j in jobs]))
"""
    jobs = run_script(code, folder=tmp_path)
    assert jobs == [[killed.job_id, "success", killed.take]]
    assert_settled(project, killed)


def test_a_later_generation_from_another_process_settles_it(
    project: Project, killed: Killed, tmp_path: Path
):
    [node_id] = [n.id for n in project.graph.nodes if n.type == "Shot"]
    code = f"""
import json, studio
if __name__ == "__main__":
    project = studio.Project({str(project.path)!r})
    take = project.generate({node_id!r}, quality="low").result(timeout={TIMEOUT})
    print(json.dumps(take.name))
"""
    later = run_script(code, folder=tmp_path)
    assert later == "SHOT-010_v01_take02.png" and killed.take == "SHOT-010_v01_take01.png"
    assert_settled(project, killed)
    assert f"{SHOT_DIR}/{later}" in repo.lfs_files(project.path)


def test_studio_takes_settles_it(project: Project, workspace: Any, killed: Killed):
    done = run_studio("takes", project.name, "1", "10", "--json", "-w", str(workspace.path))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["name"], r["state"], r["active"]) for r in rows] == [(killed.take, "ready", True)]
    assert rows[0]["provenance"]["recovered_by"] == "settle"
    assert_settled(project, killed)


def test_a_dead_reservation_is_removed_and_the_job_fails(project: Project, tmp_path: Path):
    """Killed right after reserving (the take still empty): the reservation goes, the job
    says it was lost, and the number is free again (it was never committed)."""
    code = f"""
import os, signal, socket, studio
from studio.engine import jobs as job_log
if __name__ == "__main__":
    project = studio.Project({str(project.path)!r})
    # as the engine records a job of a cluster living in this process, which dies with it
    info = {{"scheduler": "tcp://127.0.0.1:9", "scene": 1, "shot": 10,
             "host": socket.gethostname(), "scheduler_pid": os.getpid()}}
    for state in ("queued", "generating"):
        job_log.append(project.path, job_log.record(job_id="dead", info=info,
            event="server:node_state_updated",
            payload={{"node_id": "shot", "state": state, "task_id": "dead"}}))
    project.new_take(scene=1, shot=10, ext="png", prompt="p", job_id="dead")
    os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = start_script(code, folder=tmp_path)
    proc.wait(timeout=TIMEOUT)
    assert proc.returncode == -signal.SIGKILL
    assert len(list((project.path / SHOT_DIR).iterdir())) == 2  # the empty take, its sidecar
    [state] = project.jobs()
    assert state.state == "failed" and "the job was lost" in (state.error or "")
    assert list((project.path / SHOT_DIR).iterdir()) == []
    take = project.new_take(scene=1, shot=10, ext="png", prompt="p")
    assert take.name == "SHOT-010_v01_take01.png"


async def test_the_servers_sync_settles_it(
    connect, film: Project, pipeline_dirs: Path, tmp_path: Path
):
    from tests.jupyter_extension.test_ws import receive, send

    tiny = derive(builtin_pipelines_dir() / "t2i-draft", pipeline_dirs, "t2i-tiny", width=128)
    node_id = add_shot(film, tiny)
    loop = asyncio.get_running_loop()
    killed = await loop.run_in_executor(None, kill_client_at_commit, film, node_id, tmp_path)
    ws = await connect()
    await send(ws, "client:sync_request")
    message = await receive(ws, timeout=TIMEOUT)
    status = message["payload"]["node_status"][node_id]
    assert status["state"] == "success", status
    assert (status["take"], status["active_take"], status["recovered"]) == (
        killed.take,
        killed.take,
        True,
    )
    assert_settled(film, killed)
