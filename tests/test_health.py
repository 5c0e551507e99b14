"""The project's health (studio.health): pure classification, examine and repair on
real projects (real git + LFS; a lost job whose cluster is gone)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from datetime import timedelta

from studio import Project
from studio.engine import jobs as job_log
from studio.health import classify_reservation, classify_take, examine, repair
from studio.project import active_take
from studio.project.provenance import Provenance, utc_now
from tests.conftest import git_out

NOW = utc_now()


def sidecar(**fields: object) -> Provenance:
    return Provenance.model_validate({"take": "t", "creative_fingerprint": "f", **fields})


def test_classify_reservation():
    assert classify_reservation(sidecar(job_id="j"), job_running=True, now=NOW) is None
    assert classify_reservation(sidecar(job_id="j"), job_running=False, now=NOW) == (
        "orphan_reservation"
    )
    by_hand = sidecar(reserved_at=NOW - timedelta(days=9))  # no job, no lease: left alone
    assert classify_reservation(by_hand, job_running=False, now=NOW) is None
    leased = sidecar(reserved_at=NOW - timedelta(hours=2), lease_s=60)
    assert classify_reservation(leased, job_running=False, now=NOW) == "orphan_reservation"


def test_classify_take():
    assert classify_take(ready=True, tracked=False, provenance=None, job_running=False,
                         now=NOW) == "untracked_take"  # fmt: skip
    assert classify_take(ready=True, tracked=False, provenance=None, job_running=True,
                         now=NOW) is None  # its job is committing it  # fmt: skip
    assert classify_take(ready=True, tracked=True, provenance=None, job_running=False,
                         now=NOW) is None  # fmt: skip


def ended_process() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def lost_job_with_a_complete_take(project: Project, png: bytes) -> str:
    take = project.new_take(scene=1, shot=10, ext="png", prompt="p", job_id="lost")
    take.write_bytes(png)
    take.record(finished_at=NOW)
    # as the engine records a job of a cluster that lived in a process that has ended
    info = {
        "scheduler": "tcp://127.0.0.1:9",
        "scene": 1,
        "shot": 10,
        "host": socket.gethostname(),
        "scheduler_pid": ended_process(),
    }
    job_log.append(project.path, job_log.record(
        job_id="lost", event="server:node_state_updated", info=info,
        payload={"node_id": "n", "state": "generating", "task_id": "lost"}))  # fmt: skip
    return take.name


def test_examine_then_repair(project: Project, make_png: Callable[..., bytes]):
    name = lost_job_with_a_complete_take(project, make_png())
    folder = project.shot_path(scene=1, shot=10)
    (folder / "SHOT-010_v01_take50.png").write_bytes(b"")
    orphan = project.new_take(scene=1, shot=10, ext="png", prompt="p", job_id="over")
    active_take.write_active(folder, "SHOT-010_v09_take01.png")
    kinds = sorted(f.kind for f in examine(project))
    assert kinds == ["dangling_active_take", "lost_job", "orphan_reservation", "stray_file",
                     "untracked_take"]  # fmt: skip
    assert git_out(project.path, "status", "--porcelain")  # examining changed nothing

    planned, remaining = repair(project, dry_run=True)
    assert all(r.action.startswith("would ") for r in planned) and len(remaining) == 5
    assert len(examine(project)) == 5  # a dry run changes nothing

    done, remaining = repair(project)
    assert remaining == [] and all(r.error is None for r in done)
    assert git_out(project.path, "status", "--porcelain") == ""
    assert [t.name for t in project.takes(scene=1, shot=10)] == [name]
    assert not orphan.path.exists() and not (folder / active_take.ACTIVE_FILE).exists()
    [state] = project.jobs()
    assert state.summary == "success (recovered)"
