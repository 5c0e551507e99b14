"""Settling lost jobs: a job the log calls queued or generating that no cluster holds any
more (the local cluster of a kernel that was restarted, a scheduler that stopped) is settled as
its Dask retry would have been: a complete take its dead attempt left is committed (the job
ends ``success``, recovered), anything else is removed (the job ends ``failed``, lost).

Who holds a job: an engine of this process answers for the jobs it submitted; each scheduler
the log names is asked once about all its jobs (with a bounded wait); of a scheduler that
cannot be reached, only the jobs :func:`evidently_gone` are not held.
"""

from __future__ import annotations

import contextlib
import os
import socket
import weakref
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import urlsplit

from filelock import FileLock, Timeout

from studio.config import load_settings
from studio.engine import jobs as job_log
from studio.engine.render_task import is_render_job, remove_leftovers, render_task_key
from studio.engine.tasks import (
    project_topic,
    recover_attempt,
    success_result,
    take_lease_s,
    task_key,
)
from studio.errors import StudioError, said
from studio.pipelines import get_pipeline
from studio.runner.contract import ErrorCode

if TYPE_CHECKING:
    from distributed import Client

    from studio.project.project import Project
    from studio.project.takes import Take

LOST_JOB: Final = (
    "the job was lost: the cluster that ran it stopped (for instance with the kernel that "
    "started it); generate again"
)
SETTLE_WAIT_S: Final = 5.0
"""How long reading jobs waits for another process's settling before going on without."""
DEFAULT_JOB_LIMITS_S: Final = 900.0
"""A job's setup + run limits when its pipeline is no longer installed (the defaults)."""
SUBMIT_GRACE_S: Final = 10.0
"""A job still "queued" this recently may not have reached the scheduler yet: not lost."""
PEER_TIMEOUT_S: Final = 5.0
"""How long reconciling waits for another scheduler named in the job log."""
SCHEDULER_ANSWER_S: Final = 5.0
"""How long a scheduler may take to say which tasks it holds (a hung one must not hold up
settling for ever: no answer in time counts as "cannot tell", so its jobs are held)."""


class LiveEngine(Protocol):
    """What settling needs of an engine of this process (``studio.engine.engine.Engine``)."""

    @property
    def client(self) -> Client: ...

    @property
    def connected(self) -> bool: ...

    @property
    def address(self) -> str: ...

    def submitted(self, job_id: str) -> bool:
        """Whether this engine submitted the job (its future says whether it lives)."""
        ...

    def relay(self, topic: str, line: dict[str, Any]) -> None:
        """Hand a job event to the job's ``Job`` and the project's listeners."""
        ...


_live_engines: weakref.WeakSet[LiveEngine] = weakref.WeakSet()
"""Every engine of this process: who knows its own jobs, and whose listeners hear settling."""


def register(engine: LiveEngine) -> None:
    """Settling anywhere in this process will ask ``engine`` about its jobs and tell its
    listeners what was settled (for as long as the engine lives)."""
    _live_engines.add(engine)


def settle_lost_jobs(
    states: Iterable[job_log.JobState],
    *,
    held: Callable[[job_log.JobState], bool],
    recover: Callable[[job_log.JobState], Take | None],
    publish: Callable[[dict[str, Any]], None],
    project_root: Path,
) -> list[str]:
    """Settle every unfinished job of ``states`` (the job log, folded) that ``held`` says no
    cluster holds; returns their ids. ``recover`` settles what its dead attempt left (as its
    Dask retry would): a complete take is committed and the job ends ``success`` (recovered);
    otherwise the leftovers are removed and the job ends ``failed`` (lost). A job still
    "queued" in the last ``SUBMIT_GRACE_S`` is left alone: "queued" is logged just before the
    submit reaches the scheduler (any later state was logged by a worker)."""
    now = datetime.now(UTC)
    lost = []
    for state in states:
        if state.finished or recently_queued(state, now):
            continue
        if held(state):
            continue
        try:
            take = recover(state)
        except (StudioError, OSError) as exc:  # a commit refused, a file that cannot be
            # removed: the job is settled all the same (what it left stays for `repair`), and
            # the other lost jobs are too; no reader of the log fails on it.
            take, error = None, f"{LOST_JOB}; settling what it left failed: {said(exc)}"
        else:
            error = LOST_JOB
        if take is not None:
            event = "server:task_success"
            payload: dict[str, Any] = {"task_id": state.job_id, "node_id": state.node_id,
                                       "result": success_result(project_root, take,
                                                                recovered=True)}  # fmt: skip
        else:
            event = "server:task_failed"
            payload = {"task_id": state.job_id, "node_id": state.node_id, "error": error,
                       "code": ErrorCode.ENGINE_ERROR}  # fmt: skip
        publish(job_log.record(job_id=state.job_id, event=event, payload=payload))
        job_log.attempt_marker(project_root, state.job_id).unlink(missing_ok=True)
        lost.append(state.job_id)
    return lost


def held_job_ids(states: Iterable[job_log.JobState]) -> set[str]:
    """The ids of the jobs some cluster still holds. An engine of this process answers for
    the jobs it submitted; each scheduler the log names is asked once about all its jobs; of
    a scheduler that cannot be reached, only the jobs :func:`evidently_gone` are not held."""
    unfinished = {state.job_id: state for state in states}
    held: set[str] = set()
    by_scheduler: dict[str, list[str]] = {}
    engines = list(_live_engines)
    for state in unfinished.values():
        if job_log.is_process_job(state.info):
            if process_job_alive(state):
                held.add(state.job_id)
        elif any(engine.submitted(state.job_id) for engine in engines):
            held.add(state.job_id)  # its future says so, not the scheduler
        elif isinstance(scheduler := state.info.get("scheduler"), str):
            by_scheduler.setdefault(scheduler, []).append(state.job_id)
    for scheduler, job_ids in by_scheduler.items():
        held |= _held_on(scheduler, [unfinished[j] for j in job_ids], engines=engines)
    return held


def process_job_alive(state: job_log.JobState) -> bool:
    """Whether the process running a job outside the cluster (a batch run) may still run it:
    alive, when it ran on this host; elsewhere, heard of within a job's lifetime."""
    pid, host = state.info.get("pid"), state.info.get("host")
    if isinstance(pid, int) and host == socket.gethostname():
        return _process_alive(pid)
    try:
        quiet = (datetime.now(UTC) - datetime.fromisoformat(state.updated_at or "")).total_seconds()
    except ValueError:
        return False
    return quiet <= DEFAULT_JOB_LIMITS_S


def evidently_gone(state: job_log.JobState, *, now: datetime, this_host: str) -> bool:
    """Whether a job whose scheduler cannot be reached is certainly dead: its scheduler lived
    in a process of this host that has ended, or nothing was heard from it for longer than
    such a job can take. (An unreachable scheduler alone proves nothing: another network, a
    busy scheduler, an in-process cluster of a live kernel.)"""
    pid, host = state.info.get("scheduler_pid"), state.info.get("host")
    if isinstance(pid, int) and host == this_host:
        return not _process_alive(pid)
    try:
        quiet = (now - datetime.fromisoformat(state.updated_at or "")).total_seconds()
    except ValueError:
        return True
    return quiet > job_lifetime_s(state)


def job_lifetime_s(state: job_log.JobState) -> float:
    """The longest a job of this pipeline can take: its setup limit, then as long as the take
    it reserves may live (its run limit and a commit)."""
    try:
        manifest = get_pipeline(str(state.info.get("pipeline", ""))).manifest
    except StudioError:
        return DEFAULT_JOB_LIMITS_S + load_settings().git_timeout_s
    return manifest.setup_timeout_s + take_lease_s(manifest)


def _process_alive(pid: int) -> bool:
    """Is ``pid`` a live process (a zombie, ended but not yet reaped by its parent, is not)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: alive
        return True
    with contextlib.suppress(OSError, IndexError):  # Linux: the state letter after "(name)"
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _held_on(
    scheduler: str, states: list[job_log.JobState], *, engines: list[LiveEngine]
) -> set[str]:
    job_ids = [state.job_id for state in states]
    keys = {job_task_key(state): state.job_id for state in states}
    for engine in engines:
        if engine.connected and engine.address == scheduler:
            return {keys[key] for key in scheduler_tasks(engine.client, list(keys))}
    if not scheduler_reachable(scheduler):
        now, host = datetime.now(UTC), socket.gethostname()
        return {s.job_id for s in states if not evidently_gone(s, now=now, this_host=host)}
    from distributed import Client

    try:
        with Client(scheduler, timeout=PEER_TIMEOUT_S) as other:  # type: ignore[no-untyped-call]
            return {keys[key] for key in scheduler_tasks(other, list(keys))}
    except (OSError, TimeoutError):
        return set(job_ids)  # cannot tell: leave them to the next look rather than call them lost


def job_task_key(state: job_log.JobState) -> str:
    """The Dask key of the job's task: a render's, or a shot's."""
    return render_task_key(state.job_id) if is_render_job(state.info) else task_key(state.job_id)


def _recover_lost(project: Project, state: job_log.JobState) -> Take | None:
    """What the lost job's attempt left, settled (its shot from the log, else every shot; a
    render leaves no take, only its staging folder; a batch run's takes were committed by the
    jobs it started, its executed notebook stays as far as it ran)."""
    if job_log.is_process_job(state.info):
        return None
    if is_render_job(state.info):
        remove_leftovers(project.path, state.job_id)
        return None
    scene, shot = state.info.get("scene"), state.info.get("shot")
    shots = [(scene, shot)] if isinstance(scene, int) and isinstance(shot, int) else project.shots()
    found = None
    for scene_no, shot_no in shots:
        take = recover_attempt(
            project, scene=scene_no, shot=shot_no, job_id=state.job_id, by="settle"
        )
        found = found or take
    return found


def settle(project: Project) -> list[str]:
    """Settle the project's lost jobs (:func:`settle_lost_jobs`); returns their ids. Cheap
    when nothing is unfinished: one read of the job log, no scheduler asked. Runs wherever
    jobs are read or the project is written (``project.jobs()``, ``project.generate()``,
    ``studio takes``, the server's sync, a canvas opening). Serialized between processes, so a
    lost job is settled once."""
    if all(state.finished for state in job_log.jobs(project.path)):
        return []
    topic = project_topic(str(project.uuid))

    def publish(line: dict[str, Any]) -> None:
        job_log.append(project.path, line)
        for engine in list(_live_engines):
            engine.relay(topic, line)

    lock = FileLock(job_log.log_path(project.path).with_name("settle.lock"))
    try:
        lock.acquire(timeout=SETTLE_WAIT_S)
    except Timeout:  # another process is settling (and may be waiting on a slow scheduler)
        return []
    try:
        states = job_log.jobs(project.path)  # again, under the lock: another process may have
        alive = held_job_ids(state for state in states if not state.finished)
        return settle_lost_jobs(
            states,
            held=lambda state: state.job_id in alive,
            recover=lambda state: _recover_lost(project, state),
            publish=publish,
            project_root=project.path,
        )
    finally:
        lock.release()


def recently_queued(state: job_log.JobState, now: datetime) -> bool:
    """Pure: logged "queued" less than ``SUBMIT_GRACE_S`` ago (its submit may not have reached
    the scheduler yet: not lost, whatever the scheduler says)."""
    if state.state != "queued":
        return False
    try:
        last = datetime.fromisoformat(state.updated_at or "")
    except ValueError:
        return False
    return (now - last).total_seconds() < SUBMIT_GRACE_S


def scheduler_tasks(
    client: Client, keys: list[str], *, timeout: float = SCHEDULER_ANSWER_S
) -> set[str]:
    """Which of the task ``keys`` the client's scheduler still holds (queued, running or
    done), in one round trip. A scheduler that does not answer within ``timeout`` seconds
    cannot tell: every key counts as held."""
    try:
        held = client.run_on_scheduler(  # type: ignore[no-untyped-call]
            lambda dask_scheduler: [key for key in keys if key in dask_scheduler.tasks],
            callback_timeout=timeout,  # Client.sync's own bound on the round trip
        )
    except TimeoutError:
        return set(keys)
    return set(held)


def scheduler_reachable(address: str, *, timeout: float = 1.0) -> bool:
    """Does a Dask scheduler answer at ``tcp://host:port``? (``inproc://`` schedulers live in
    another process's memory: never reachable from here.)"""

    parts = urlsplit(address)
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or not parts.port:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False
