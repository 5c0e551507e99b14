"""The durable per-project job log (issue 5 item 3).

Dask's event log is bounded and lives in the scheduler, so it forgets; this log does not.
Every job event (the Table 6 messages of :mod:`studio.events`) is appended as one JSON line to
``<project>/.git/studio/jobs.jsonl``:

    {"job_id": "...", "at": "2026-...Z", "event": "server:task_progress", "payload": {...},
     "info": {...}}

Why under ``.git/``: the log is operational state of this checkout, not part of the film. It
must never show up as a project change, be committed, or conflict between team members (the
same reason the commit and manifest locks live there). Workers append to it directly (they
share the project folder they write takes into), so the log holds the truth even when the
kernel that submitted the job is gone.

Appends are atomic: one ``write(2)`` of whole lines on an ``O_APPEND`` descriptor, under a
file lock (so lines from many processes never interleave, also where ``O_APPEND`` is weak,
e.g. NFS), then ``fsync`` (records queued together share one; the kernel's "queued" record is
synced while its submission travels, before ``generate`` returns). A line torn by a crash is
skipped when reading (and the next append starts a line of its own).

Reading is incremental: each process keeps the log folded (:func:`snapshot`), remembers how far
it read, and reads only what was appended since. The state of a job and the status of a node
are both folded by the one reducer of the event stream, :func:`studio.events.fold_status`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, Final

from filelock import FileLock

from studio.atomic import atomic_write_bytes
from studio.events import TERMINAL_STATES as TERMINAL_STATES  # where it was, for its users
from studio.events import fold_status, is_final, make_event, status_node

LOG_DIR: Final = ".git/studio"
LOG_FILE: Final = "jobs.jsonl"
CACHED_LOGS: Final = 32
"""Job logs a process keeps folded (the least recently read one goes first)."""
TAIL_BYTES: Final = 64
"""How many bytes before where a log was read up to are compared, to tell it was rewritten."""


def log_path(project_root: Path) -> Path:
    return project_root / LOG_DIR / LOG_FILE


CANCEL_DIR: Final = "cancel"


def cancel_marker(project_root: Path, job_id: str) -> Path:
    """A file whose existence asks the job's worker to stop (durable across kernel restarts,
    visible to every worker that shares the project folder)."""
    return project_root / LOG_DIR / CANCEL_DIR / job_id


def cancel_requests(project_root: Path) -> set[str]:
    """The ids of the jobs whose Cancel was asked for (their :func:`cancel_marker` files)."""
    try:
        return {p.name for p in (project_root / LOG_DIR / CANCEL_DIR).iterdir()}
    except OSError:  # none asked yet: no folder
        return set()


def request_cancel(project_root: Path, job_id: str) -> None:
    """Ask the job to stop: its worker stops the pipeline (or skips it, if still queued). A
    job waiting for jobs started for it (a render's post steps, its ``info["after"]``) asks
    those to stop too: a Cancel while it waits must not leave them running for nobody."""
    jobs = snapshot(project_root).jobs
    waits_for = jobs[job_id].info.get("after") if job_id in jobs else None
    started_for = [
        j for j in (waits_for if isinstance(waits_for, list) else [])
        if isinstance(j, str) and j in jobs and not jobs[j].finished
    ]  # fmt: skip
    for one in (job_id, *started_for):
        marker = cancel_marker(project_root, one)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()


PROCESS_JOB_KINDS: Final = frozenset({"batch"})
"""``info["kind"]`` of jobs a process holds (a papermill batch run, run in it or, waited for
by it, on a worker): its ``info`` names the ``host`` and ``pid`` that hold it, instead of a
scheduler. Records without a ``kind`` (every other cluster job) read as before."""


def is_process_job(info: Mapping[str, Any]) -> bool:
    return info.get("kind") in PROCESS_JOB_KINDS


def process_task_key(job_id: str) -> str:
    """The Dask key of a process job run on the cluster (``batch --cluster``)."""
    return f"batch-{job_id}"


def attempt_marker(project_root: Path, job_id: str) -> Path:
    """A file that exists while an attempt of the job runs: found at the start of an attempt,
    it says an earlier one died (a killed worker) and may have left a take behind."""
    return project_root / LOG_DIR / "attempts" / job_id


def record(
    *, job_id: str, event: str, payload: dict[str, Any], info: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A log line's content: a validated Table 6 message plus the job id and the time."""
    message = make_event(event, **payload)
    line: dict[str, Any] = {
        "job_id": job_id,
        "at": datetime.now(UTC).isoformat(),
        "event": message["event"],
        "payload": message["payload"],
    }
    if info:
        line["info"] = info
    return line


def append(project_root: Path, line: dict[str, Any], *, synced: bool = True) -> None:
    """Append one record atomically (see the module doc). ``synced=False``: not yet made
    durable, the caller calls :func:`sync` before it relies on that (the record is in the
    log at once, in order, for every reader)."""
    append_many(project_root, [line], synced=synced)


def append_many(
    project_root: Path, lines: Sequence[dict[str, Any]], *, synced: bool = True
) -> None:
    """Append records in order, in one write and one fsync (each whole or, torn by a crash,
    skipped when reading: as separate appends would leave them)."""
    if not lines:
        return
    path = log_path(project_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(
        (
            json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
        ).encode()
        for line in lines
    )
    with FileLock(path.with_suffix(".lock")):
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                # A line torn by a crashed writer (writers hold the lock, so none is writing):
                # end it, so that this record is a line of its own rather than torn with it.
                data = b"\n" + data
            written = 0
            while written < len(data):  # a full disk may take part of it without raising
                step = os.write(fd, data[written:])
                if step == 0:
                    raise OSError(errno.ENOSPC, f"the job log {path} took no more bytes")
                written += step
            if synced:
                os.fsync(fd)
        finally:
            os.close(fd)


def sync(project_root: Path) -> None:
    """Make every record appended so far durable (after appends with ``synced=False``)."""
    fd = os.open(log_path(project_root), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class JobState:
    """The latest known state of one job, folded from its records (:class:`_Fold`). Shared,
    not copied, between the callers that read the log: never change one (or its ``info``)."""

    job_id: str
    node_id: str
    state: str = "queued"
    progress: float = 0.0
    step: str = ""
    take: str | None = None
    output_url: str | None = None
    error: str | None = None
    code: str | None = None
    recovered: bool = False
    """Its take was made by an attempt that died and settled afterwards (committed then)."""
    submitted_at: str | None = None
    updated_at: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict, repr=False)
    """Its status as a node shows it (:func:`studio.events.fold_status`): the fields above
    are read from it."""

    @property
    def finished(self) -> bool:
        return is_final(self.state, self.code)

    @property
    def summary(self) -> str:
        """One line: ``success (recovered)``, ``failed: why``, ``generating 40% step``..."""
        if self.state == "success":
            return "success (recovered)" if self.recovered else "success"
        if self.state == "failed":
            return f"failed: {self.error}" if self.error else "failed"
        if self.state == "generating":
            return f"generating {self.progress:.0f}% {self.step}".rstrip()
        return self.state


@dataclass
class _JobFold:
    """One job's records folded so far (its fold's own, changed in place)."""

    node_id: str
    submitted_at: str | None
    updated_at: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    progress: float = 0.0
    made: JobState | None = None
    """Its :class:`JobState`, made when first asked for since its last record."""

    def state(self, job_id: str) -> JobState:
        if self.made is None:
            status = self.status
            self.made = JobState(
                job_id=job_id,
                node_id=self.node_id,
                state=str(status.get("state", "queued")),
                progress=self.progress,
                step=str(status.get("step", "")),
                take=status.get("take"),
                output_url=status.get("output_url"),
                error=status.get("error"),
                code=status.get("code"),
                recovered=bool(status.get("recovered")),
                submitted_at=self.submitted_at,
                updated_at=self.updated_at,
                info=self.info,
                status=status,
            )
        return self.made


class _Fold:
    """Records folded so far: each job's state (in order of first appearance) and each node's
    status (the events of every job run on it, in log order, as the canvas folds them). Both
    are folded by :func:`studio.events.fold_status`; the rest is the log's own bookkeeping
    (when a job was submitted and last heard of, the ``info`` of its records)."""

    def __init__(self) -> None:
        self.jobs: dict[str, _JobFold] = {}
        self.nodes: dict[str, dict[str, Any]] = {}

    def add(self, line: Mapping[str, Any]) -> None:
        """Fold one more record (a malformed one raises and changes nothing)."""
        job_id, name, payload = line["job_id"], line["event"], line["payload"]
        job = self.jobs.get(job_id)
        status = fold_status(job.status if job else {}, name, payload)
        progress = float(status.get("progress", 0.0))
        extra = line.get("info")
        info = {**(job.info if job else {}), **extra} if extra else None
        _fold_node(self.nodes, line)  # the same payload, folded: raises only where above did
        if job is None:
            job = self.jobs[job_id] = _JobFold(str(payload.get("node_id", "")), line.get("at"))
        if info is not None:
            job.info = info  # a new dict: the JobStates made earlier keep theirs
        job.status, job.progress, job.updated_at, job.made = status, progress, line.get("at"), None

    def add_lines(self, complete: bytes) -> None:
        """Fold the records of whole lines (``complete`` ends with a newline, or is empty);
        torn and foreign lines are skipped."""
        for raw in complete.split(b"\n")[:-1]:  # (what follows the last newline: nothing)
            if (line := _parse_record(raw)) is not None:
                with contextlib.suppress(KeyError, TypeError, ValueError):  # foreign: skipped
                    self.add(line)

    def job_states(self) -> dict[str, JobState]:
        return {job_id: job.state(job_id) for job_id, job in self.jobs.items()}

    def snapshot(self, path: Path, size: int) -> LogSnapshot:
        # Copies of the outer maps, as this fold goes on; the node status dicts it replaces,
        # never changes, so they are shared.
        return LogSnapshot(
            path=path,
            size=size,
            jobs=MappingProxyType(self.job_states()),
            node_status=MappingProxyType(dict(self.nodes)),
        )


def _fold_node(nodes: dict[str, dict[str, Any]], message: Mapping[str, Any]) -> None:
    """Fold a message (a record, or just its event and payload) into its node's status."""
    name, payload = message["event"], message["payload"]
    if (node_id := status_node(name, payload)) is not None:
        nodes[node_id] = fold_status(nodes.get(node_id, {}), name, payload)


def fold(lines: Iterable[Mapping[str, Any]]) -> dict[str, JobState]:
    """Pure: job id -> latest state, in order of first appearance. (A :class:`LogSnapshot`
    was folded as it was read: nothing is folded again.)"""
    if isinstance(lines, LogSnapshot):
        return dict(lines.jobs)
    folded = _Fold()
    for line in lines:
        folded.add(line)
    return folded.job_states()


def node_status(lines: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Pure: the canvas's per-node status after replaying the log (for ``server:full_sync``
    after a kernel restart or a browser reload). (A :class:`LogSnapshot` was folded as it was
    read: nothing is folded again.)"""
    if isinstance(lines, LogSnapshot):
        return {node_id: dict(status) for node_id, status in lines.node_status.items()}
    nodes: dict[str, dict[str, Any]] = {}
    for line in lines:
        _fold_node(nodes, line)
    return nodes


# --- reading, incrementally ------------------------------------------------------------------


def _parse_record(raw: bytes) -> dict[str, Any] | None:
    """One line of the log as a record, or None for a torn or foreign line."""
    try:
        line = json.loads(raw)
    except ValueError:
        return None
    if (
        isinstance(line, dict)
        and isinstance(line.get("job_id"), str)
        and isinstance(line.get("event"), str)
        and isinstance(line.get("payload"), dict)
    ):
        return line
    return None


def _records(path: Path, *, end: int) -> Iterator[dict[str, Any]]:
    try:
        with path.open("rb") as f:
            data = f.read(end)
    except FileNotFoundError:
        return
    for raw in data.split(b"\n"):
        if (line := _parse_record(raw)) is not None:
            yield line


@dataclass(frozen=True)
class LogSnapshot:
    """The job log folded as far as its lines were complete (``size`` bytes): each job's
    state and each node's status. Iterating it yields those records, oldest first (read
    again from the file: the fold is kept in memory, the records are not)."""

    path: Path
    size: int
    jobs: Mapping[str, JobState]
    node_status: Mapping[str, Mapping[str, Any]]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return _records(self.path, end=self.size)


class _CachedLog:
    """One log file (device and inode) folded up to ``offset``; only used under ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._start_over()

    def _start_over(self) -> None:
        self.offset = 0
        self.tail = b""  # the bytes just before offset, as they were read
        self.folded = _Fold()
        self.last: LogSnapshot | None = None

    def refresh(self, f: BinaryIO, path: Path) -> LogSnapshot:
        """Fold what was appended to the open log ``f`` since the last look."""
        size = os.fstat(f.fileno()).st_size
        if self._rewritten(f, size):
            self._start_over()
        if size == self.offset and self.last is not None:
            return self.last
        f.seek(self.offset)
        appended = f.read()
        # A last line without its newline is still being written (or was torn by a crash and
        # the next append ends it): it is read again next time, not skipped.
        complete = appended[: appended.rfind(b"\n") + 1]
        self.folded.add_lines(complete)
        if complete or self.last is None:
            self.offset += len(complete)
            self.tail = (self.tail + complete)[-TAIL_BYTES:]
            self.last = self.folded.snapshot(path, self.offset)
        return self.last

    def _rewritten(self, f: BinaryIO, size: int) -> bool:
        """Truncated, or written anew under an inode number reused (what was read is gone)."""
        if size < self.offset:
            return True
        return os.pread(f.fileno(), len(self.tail), self.offset - len(self.tail)) != self.tail


_cached_logs: OrderedDict[tuple[int, int], _CachedLog] = OrderedDict()
_cached_logs_lock = threading.Lock()


def _forget_cached_logs() -> None:
    # A child forked while another thread held a lock would wait for it forever: start afresh.
    global _cached_logs_lock
    _cached_logs_lock = threading.Lock()
    _cached_logs.clear()


os.register_at_fork(after_in_child=_forget_cached_logs)


def _cached_log(identity: tuple[int, int]) -> _CachedLog:
    with _cached_logs_lock:
        log = _cached_logs.get(identity)
        if log is None:
            log = _cached_logs[identity] = _CachedLog()
            while len(_cached_logs) > CACHED_LOGS:
                _cached_logs.popitem(last=False)
        _cached_logs.move_to_end(identity)
        return log


def snapshot(project_root: Path) -> LogSnapshot:
    """The project's job log, folded: only what was appended since this process last looked
    is read (from any process; a log that was truncated or replaced is folded afresh)."""
    path = log_path(project_root)
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return LogSnapshot(path, 0, MappingProxyType({}), MappingProxyType({}))
    with f:
        stat = os.fstat(f.fileno())
        log = _cached_log((stat.st_dev, stat.st_ino))
        with log.lock:
            return log.refresh(f, path)


def read(project_root: Path) -> LogSnapshot:
    """Every complete record, oldest first; torn or foreign lines are skipped. (A snapshot:
    :func:`fold` and :func:`node_status` of it cost nothing, it was folded as it was read.)"""
    return snapshot(project_root)


def jobs(project_root: Path) -> list[JobState]:
    """Every job of the project with its latest state, oldest first."""
    return list(snapshot(project_root).jobs.values())


# --- compacting -----------------------------------------------------------------------------


def compact(project_root: Path) -> int:
    """Drop the records of the job log that no longer change anything: a job's progress event
    followed, later, by another of its progress events or its success (a job reports dozens;
    its last one is kept). Every job's state and every node's status read from the log stay
    exactly as they were: that is checked before the log is replaced, else it is left as it
    is. Lines that are no records are kept as they are. Runs under the log's lock (no append
    is lost meanwhile) and replaces the log atomically (a reader sees the old or the new one;
    every process folds the new one afresh). Returns how many records were dropped."""
    path = log_path(project_root)
    if not path.exists():
        return 0
    with FileLock(path.with_suffix(".lock")):
        data = path.read_bytes()
        lines = data.split(b"\n")  # the last: b"", or a line torn by a crash (kept)
        dropped = _superseded([_parse_record(raw) for raw in lines[:-1]])
        if not dropped:
            return 0
        compacted = b"\n".join(raw for i, raw in enumerate(lines) if i not in dropped)
        if _folded(compacted) != _folded(data):
            return 0  # cannot happen by the rule above; were it to, nothing is lost
        atomic_write_bytes(path, compacted)
    return len(dropped)


def _superseded(records: list[dict[str, Any] | None]) -> set[int]:
    """The indexes of the progress records a later record of the same job overwrites whole: a
    progress event or a success sets everything a progress event sets (state, task id,
    progress, step), for the job and its node alike. A job's first record (when it was
    submitted, its node) and records carrying ``info`` are kept."""
    first: dict[str, int] = {}
    for i, record in enumerate(records):
        if record is not None:
            first.setdefault(record["job_id"], i)
    overwritten: set[str] = set()  # jobs with a progress or success after this point
    dropped: set[int] = set()
    for i in range(len(records) - 1, -1, -1):
        record = records[i]
        if record is None or record["event"] not in ("server:task_progress", "server:task_success"):
            continue
        job_id = record["job_id"]
        if (
            record["event"] == "server:task_progress"
            and job_id in overwritten
            and first[job_id] != i
            and not record.get("info")
        ):
            dropped.add(i)
        overwritten.add(job_id)
    return dropped


def _folded(data: bytes) -> tuple[dict[str, JobState], dict[str, dict[str, Any]]]:
    folded = _Fold()
    folded.add_lines(data[: data.rfind(b"\n") + 1])
    return folded.job_states(), folded.nodes
