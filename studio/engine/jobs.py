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

Appends are atomic: one ``write(2)`` of a whole line on an ``O_APPEND`` descriptor, under a
file lock (so lines from many processes never interleave, also where ``O_APPEND`` is weak,
e.g. NFS), then ``fsync``. A line torn by a crash is skipped when reading.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from filelock import FileLock

from studio.events import apply_event, make_event

LOG_DIR: Final = ".git/studio"
LOG_FILE: Final = "jobs.jsonl"
TERMINAL_STATES: Final = frozenset({"success", "failed", "canceled"})


def log_path(project_root: Path) -> Path:
    return project_root / LOG_DIR / LOG_FILE


def cancel_marker(project_root: Path, job_id: str) -> Path:
    """A file whose existence asks the job's worker to stop (durable across kernel restarts,
    visible to every worker that shares the project folder)."""
    return project_root / LOG_DIR / "cancel" / job_id


def request_cancel(project_root: Path, job_id: str) -> None:
    """Ask the job to stop: its worker stops the pipeline (or skips it, if still queued)."""
    marker = cancel_marker(project_root, job_id)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()


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


def append(project_root: Path, line: dict[str, Any]) -> None:
    """Append one record atomically (see the module doc)."""
    path = log_path(project_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (
        json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
    ).encode()
    with FileLock(path.with_suffix(".lock")):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


def read(project_root: Path) -> Iterator[dict[str, Any]]:
    """Every complete record, oldest first; torn or foreign lines are skipped."""
    path = log_path(project_root)
    if not path.exists():
        return
    with path.open("rb") as f:
        for raw in f:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and isinstance(line.get("job_id"), str):
                yield line


@dataclass
class JobState:
    """The latest known state of one job, folded from its records."""

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

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

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


def fold(lines: Iterable[dict[str, Any]]) -> dict[str, JobState]:
    """Pure: job id -> latest state, in order of first appearance."""
    jobs: dict[str, JobState] = {}
    for line in lines:
        payload = line.get("payload") or {}
        job = jobs.get(line["job_id"])
        if job is None:
            job = JobState(
                job_id=line["job_id"],
                node_id=str(payload.get("node_id", "")),
                submitted_at=line.get("at"),
            )
            jobs[job.job_id] = job
        job.updated_at = line.get("at")
        job.info.update(line.get("info") or {})
        event = line.get("event")
        if event == "server:node_state_updated":
            job.state = str(payload.get("state", job.state))
        elif event == "server:task_progress":
            job.state = "generating"
            job.progress = float(payload.get("progress", job.progress))
            job.step = str(payload.get("step", ""))
        elif event == "server:task_success":
            result = payload.get("result") or {}
            job.state, job.progress, job.step = "success", 100.0, ""
            job.take = result.get("take")
            job.output_url = result.get("output_url")
            job.recovered = bool(result.get("recovered"))
        elif event == "server:task_failed":
            # A cancel is reported as failed with code CANCELED, then as state "canceled".
            if job.state != "canceled":
                job.state = "failed"
            job.error = payload.get("error")
            job.code = payload.get("code")
    return jobs


def node_status(lines: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Pure: the canvas's per-node status after replaying the log (for ``server:full_sync``
    after a kernel restart or a browser reload)."""
    status: dict[str, Any] = {}
    for line in lines:
        status = apply_event(status, {"event": line["event"], "payload": line["payload"]})
    return status


def jobs(project_root: Path) -> list[JobState]:
    """Every job of the project with its latest state, oldest first."""
    return list(fold(read(project_root)).values())
