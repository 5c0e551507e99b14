"""The project's queue as rows (issue 14 item 5), pure: which jobs it shows, in which order,
and how a notebook shows them. No files, no cluster: :mod:`studio.engine.queue` reads the job
log, the pause state and the cancel requests and hands them here.

Order: running jobs first (oldest first), then queued ones in the order they will start (the
jobs moved to the front, most recently moved first, then the others as submitted), then the
most recently finished ones (newest first).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from studio.events import is_final

RECENT_FINISHED: Final = 20
"""Finished jobs the queue still shows (the job log keeps them all: ``project.jobs()``)."""

Phase = Literal["running", "queued", "finished"]
PHASES: Final[tuple[Phase, ...]] = ("running", "queued", "finished")


@dataclass(frozen=True)
class QueueEntry:
    """One job as the queue shows it."""

    job_id: str
    node_id: str
    kind: str
    """``generate``, ``sweep``, ``render`` or what the job log's record names
    (``info["kind"]``: a batch run's jobs, say)."""
    phase: Phase
    state: str
    """The job's state as its node shows it (queued, generating, success, failed, canceled)."""
    scene: int | None = None
    shot: int | None = None
    sweep_id: str | None = None
    sweep_cell: int | None = None
    step: str = ""
    progress: float = 0.0
    error: str | None = None
    submitted_at: str | None = None
    updated_at: str | None = None
    cancel_requested: bool = False
    """Its Cancel was asked for, and its worker has not answered yet."""
    moved_to_front: bool = False

    @property
    def shot_label(self) -> str:
        if self.scene is None or self.shot is None:
            return ""
        return f"SC{self.scene:02d} SH{self.shot:03d}"

    @property
    def status(self) -> str:
        """One line: ``generating 40%``, ``queued (cancel requested)``, ``failed: why``."""
        if self.cancel_requested and self.phase != "finished":
            return f"{self.state} (cancel requested)"
        if self.state == "generating":
            return f"generating {self.progress:.0f}%"
        if self.state == "failed" and self.error:
            return f"failed: {self.error}"
        if self.phase == "queued" and self.step:
            return f"queued: {self.step}"
        return self.state

    def as_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "node_id": self.node_id,
            "kind": self.kind,
            "phase": self.phase,
            "state": self.state,
            "status": self.status,
            "scene": self.scene,
            "shot": self.shot,
            "sweep_id": self.sweep_id,
            "sweep_cell": self.sweep_cell,
            "step": self.step,
            "progress": self.progress,
            "error": self.error,
            "submitted_at": self.submitted_at,
            "updated_at": self.updated_at,
            "cancel_requested": self.cancel_requested,
            "moved_to_front": self.moved_to_front,
        }


def job_kind(info: Mapping[str, Any]) -> str:
    """What made a job, read from its log record's ``info``."""
    if isinstance(kind := info.get("kind"), str) and kind:
        return kind
    if isinstance(info.get("sweep"), Mapping):
        return "sweep"
    if info.get("task") == "render_final_video" or "edl" in info:
        return "render"
    return "generate"


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def entry(
    *,
    job_id: str,
    node_id: str,
    state: str,
    code: str | None,
    info: Mapping[str, Any],
    step: str = "",
    progress: float = 0.0,
    error: str | None = None,
    submitted_at: str | None = None,
    updated_at: str | None = None,
    cancel_requested: bool = False,
    moved_to_front: bool = False,
) -> QueueEntry:
    """One job's row, from its folded state and its ``info``."""
    phase: Phase = (
        "finished" if is_final(state, code) else "running" if state != "queued" else "queued"
    )
    sweep = info.get("sweep")
    sweep_id = sweep.get("id") if isinstance(sweep, Mapping) else None
    return QueueEntry(
        job_id=job_id,
        node_id=node_id,
        kind=job_kind(info),
        phase=phase,
        state=state,
        scene=_whole(info.get("scene")),
        shot=_whole(info.get("shot")),
        sweep_id=sweep_id if isinstance(sweep_id, str) else None,
        sweep_cell=_whole(sweep.get("cell")) if isinstance(sweep, Mapping) else None,
        step=step,
        progress=progress,
        error=error,
        submitted_at=submitted_at,
        updated_at=updated_at,
        cancel_requested=cancel_requested,
        moved_to_front=moved_to_front,
    )


def order(
    entries: Iterable[QueueEntry], *, front: Sequence[str] = (), recent: int = RECENT_FINISHED
) -> list[QueueEntry]:
    """The queue's rows: running (as submitted), queued (``front``: job ids moved to the
    front, most recent first, ahead of the rest as submitted), the ``recent`` newest finished.
    ``entries`` come in submission order (the job log's)."""
    listed = list(entries)
    rank = {job_id: i for i, job_id in enumerate(front)}
    running = [e for e in listed if e.phase == "running"]
    queued = [e for e in listed if e.phase == "queued"]
    queued.sort(key=lambda e: rank.get(e.job_id, len(rank)))  # stable: submission order kept
    finished = [e for e in listed if e.phase == "finished"]
    finished.sort(key=lambda e: e.updated_at or "", reverse=True)
    return [*running, *queued, *finished[: max(0, recent)]]


def moved_first(front: Sequence[str], job_id: str) -> list[str]:
    """The move-to-front list after ``job_id`` is moved (it goes first, once)."""
    return [job_id, *(j for j in front if j != job_id)]


def age(at: str | None, *, now: datetime) -> str:
    """``12 s``, ``4 min``, ``3 h``, ``2 d`` since the ISO time ``at`` ("" when unknown)."""
    if not at:
        return ""
    try:
        then = datetime.fromisoformat(at)
    except ValueError:
        return ""
    if then.tzinfo is None or now.tzinfo is None:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def counts(entries: Iterable[QueueEntry]) -> dict[Phase, int]:
    tally: dict[Phase, int] = dict.fromkeys(PHASES, 0)
    for one in entries:
        tally[one.phase] += 1
    return tally


def queue_html(entries: Sequence[QueueEntry], *, paused: bool, now: datetime) -> str:
    """The notebook's table of the queue."""
    tally = counts(entries)
    state = (
        "<b style='color:#b26a00'>paused</b> (running jobs finish, queued ones wait)"
        if paused
        else "<b>running</b>"
    )
    head = (
        f"<b>Queue</b> · {state} · {tally['running']} running · {tally['queued']} queued"
        f" · {tally['finished']} recently finished"
    )
    if not entries:
        return f"<div>{head}</div><div><i>No jobs yet.</i></div>"
    columns = ("job", "kind", "node", "shot", "sweep", "status", "age")
    header = "".join(f"<th style='text-align:left'>{c}</th>" for c in columns)
    rows = []
    for one in entries:
        sweep = f"{one.sweep_id} #{one.sweep_cell}" if one.sweep_id else ""
        cells = (one.job_id, one.kind, one.node_id, one.shot_label, sweep, one.status,
                 age(one.submitted_at, now=now))  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return f"<div>{head}</div><table><tr>{header}</tr>{''.join(rows)}</table>"
