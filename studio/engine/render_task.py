"""``render_final_video`` (the PRD's task name): the film, rendered on a CPU worker from an
exported EDL (issue 13 item 3).

Everything arrives as arguments (the project folder, the EDL's project-relative path and the
.otio / FCP XML exported beside it), so a retry on another worker does the same thing. The
EDL is the blueprint, not the graph: it is read with
:func:`studio.assembly.edl.sequence_from_edl`, its sources found and probed in the project
(:mod:`studio.assembly.resolve`), and the sequence is rendered by
:func:`studio.assembly.render.render_sequence` (MoviePy).

Order of work, so no partial film is ever visible and nothing is overwritten:

1. Sources that are Git LFS pointer files (a clone without ``git lfs pull``) are pulled with
   ``git lfs pull --include=<paths>`` when the clone's LFS store or a remote can supply them,
   else the job is refused with that exact command.
2. The render writes into this job's staging folder ``06_Exports/.rendering/<job id>/``
   (the renderer writes a temporary file there and renames it when complete; a cancel stops
   the encoder and leaves nothing).
3. The complete film is published as ``06_Exports/<title>_v###.mp4`` with ``link(2)`` under
   the next free version (:func:`studio.assembly.export.publish_versioned`, the EDLs' own
   versioning). ``06_Exports`` is git-ignored (PRD Table 1: deliverables), so nothing is
   committed.

Placement: submitted with ``resources={"CPU": 1}``, which only workers without a GPU
declare (see :mod:`studio.engine.cluster`), so a render never takes a GPU worker's slot.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Final

from studio.assembly.edl import sequence_from_edl
from studio.assembly.export import file_stem, publish_versioned
from studio.assembly.render import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    LFSPointerMedia,
    RenderCanceled,
    RenderFailed,
    RenderProgress,
    lfs_pointer_sources,
    render_sequence,
)
from studio.assembly.resolve import files_named_by_edl, media_named_by_edl
from studio.assembly.timecode import frame_rate
from studio.config import load_settings
from studio.engine import jobs as job_log
from studio.engine.cancel_watch import CancelWatch
from studio.engine.cluster import CPU_RESOURCE
from studio.engine.tasks import Publisher, _fail, begin, wait_for_turn
from studio.errors import SequenceError, StudioError
from studio.project import lfs
from studio.project.layout import EXPORTS_DIR
from studio.project.project import Project
from studio.quality import Quality
from studio.runner.contract import ErrorCode

RENDER_TASK: Final = "render_final_video"
RENDER_RESOURCES: Final = {CPU_RESOURCE: 1}
"""What a render asks of its worker: a CPU slot, which GPU workers do not declare."""
STAGING_DIR: Final = ".rendering"
"""Inside ``06_Exports``: each render job's private folder until its film is published."""
FILM_EXTENSION: Final = "mp4"
ENCODER_SETTINGS: Final[dict[Quality, tuple[str, int]]] = {
    "low": ("veryfast", 23),
    "standard": (DEFAULT_PRESET, DEFAULT_CRF),
    "high": ("slow", 16),
}
"""A render's quality -> libx264's preset and CRF: a quick draft cut, the default, a master."""
PROGRESS_EVERY_S: Final = 0.25
"""Progress events at most this often (a render reports every frame; each event is a line
of the durable log)."""


def render_task_key(job_id: str) -> str:
    """The Dask key of a render job's task (the scheduler knows a live job by it)."""
    return f"{RENDER_TASK}-{job_id}"


def is_render_job(info: dict[str, Any]) -> bool:
    """Whether a job's log ``info`` (as the kernel wrote it when queueing) is a render's."""
    return info.get("task") == RENDER_TASK


def staging_folder(project_root: Path, job_id: str) -> Path:
    return project_root / EXPORTS_DIR / STAGING_DIR / job_id


def remove_leftovers(project_root: Path, job_id: str) -> None:
    """What a dead attempt of render job ``job_id`` left (its staging folder): removed, and
    the staging area too once no other render uses it. A published film is complete and
    stays."""
    folder = staging_folder(project_root, job_id)
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):  # another render's folder is in it: it stays
        folder.parent.rmdir()


# --- Git LFS pointers ---------------------------------------------------------------------------


class LFSPointers(StudioError):
    """Sources of the EDL are Git LFS pointers that cannot be pulled here."""


def pull_command(paths: list[str]) -> str:
    """The command that fetches ``paths`` (project-relative) into a clone."""
    return f"git lfs pull --include={shlex.quote(','.join(paths))}"


def _pointer_oid(path: Path) -> str | None:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for line in path.read_text(encoding="ascii").splitlines():
            if line.startswith("oid sha256:"):
                return line.removeprefix("oid sha256:").strip()
    return None


def _can_supply(root: Path, pointers: dict[str, Path]) -> bool:
    """Can ``git lfs pull`` get these objects: all are in this clone's LFS store already
    (``git lfs checkout`` territory), or the repository has a remote or an ``lfs.url``."""
    store = root / ".git" / "lfs"
    local = all(
        (oid := _pointer_oid(file)) is not None
        and lfs.object_path(lfs_dir=store, oid=oid).is_file()
        for file in pointers.values()
    )
    if local:
        return True
    for args in (["remote"], ["config", "--get", "lfs.url"]):
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode == 0 and done.stdout.strip():
            return True
    return False


def fetch_pointers(root: Path, pointers: dict[str, Path]) -> str | None:
    """Pull the pointer files ``pointers`` (project-relative path -> file) with ``git lfs
    pull --include``; None when they are media now, else why not (the command to run named)."""
    paths = sorted(pointers)
    command = pull_command(paths)
    listed = ", ".join(paths)
    if not _can_supply(root, pointers):
        return (
            f"{listed} {'is a Git LFS pointer' if len(paths) == 1 else 'are Git LFS pointers'}"
            f", not media, and this clone has no LFS store or remote to pull them from; run "
            f"`{command}` in {root} where the objects can be fetched, then render again"
        )
    try:
        done = subprocess.run(
            ["git", "lfs", "pull", f"--include={','.join(paths)}"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=load_settings().git_timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{command}` in {root} did not finish ({exc}); run it by hand, then render again"
    still = [path for path, file in pointers.items() if lfs.looks_like_pointer(file)]
    if done.returncode != 0 or still:
        why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "nothing fetched"
        return (
            f"{', '.join(still or paths)} could not be pulled from Git LFS ({why}); run "
            f"`{command}` in {root} once the LFS store is reachable, then render again"
        )
    return None


# --- progress -------------------------------------------------------------------------------


def eta_text(seconds: float | None) -> str:
    """Pure: ``ETA 1:05`` (or ``ETA 1:02:05``); empty when unknown."""
    if seconds is None or seconds < 0:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"ETA {hours}:{minutes:02d}:{secs:02d}" if hours else f"ETA {minutes}:{secs:02d}"


def progress_step(progress: RenderProgress) -> tuple[float, str]:
    """Pure: a render's progress as a node shows it: percent and ``rendering frame 120/240,
    ETA 0:05``."""
    total = max(progress.frames_total, 0)
    percent = min(100.0, 100.0 * progress.frames_done / total) if total else 0.0
    eta = eta_text(progress.eta_s)
    step = f"rendering frame {progress.frames_done}/{total}" + (f", {eta}" if eta else "")
    return percent, step


class _ProgressRelay:
    """Hands the renderer's progress to the job's events, at most every ``PROGRESS_EVERY_S``
    (and always the last frame), without making the encoder wait for the log."""

    def __init__(self, publish: Publisher) -> None:
        self.publish = publish
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, progress: RenderProgress) -> None:
        now = time.monotonic()
        last_frame = progress.frames_done >= progress.frames_total
        with self._lock:
            if not last_frame and now - self._last < PROGRESS_EVERY_S:
                return
            self._last = now
        percent, step = progress_step(progress)
        self.publish.nowait("server:task_progress", task_id=self.publish.job_id,
                            node_id=self.publish.node_id, progress=percent,
                            step=step)  # fmt: skip

    def step(self, text: str, percent: float = 0.0) -> None:
        self.publish.nowait("server:task_progress", task_id=self.publish.job_id,
                            node_id=self.publish.node_id, progress=percent,
                            step=text)  # fmt: skip


# --- the task -------------------------------------------------------------------------------


def render_final_video(
    *,
    project_path: str,
    job_id: str,
    node_id: str,
    edl: str | None,
    otio: str | None,
    fcp_xml: str | None,
    title: str,
    frame_rate_label: str,
    size: tuple[int, int],
    quality: Quality,
    topic: str,
    graph: dict[str, Any] | None = None,
    after: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Render the EDL ``edl`` (project-relative) to ``06_Exports/<title>_v###.mp4``; returns
    ``{"ok": True, "output_url": ..., ...}`` or ``{"ok": False, "code": ..., "error": ...}``
    for a failure that would only repeat (an EDL that does not read, LFS pointers that cannot
    be pulled, a cancel). ``frame_rate_label`` and ``size`` are used where the EDL does not
    say its own (an NLE's EDL); ``quality`` picks the encoder's settings
    (:data:`ENCODER_SETTINGS`). Unexpected errors raise, so Dask's ``retries`` apply.

    ``edl`` None: the sequence waited for post steps (``after``: their outcomes, Dask starts
    this task once they are done); it is compiled from ``graph`` now that their outputs are
    made, and exported as the next EDL version here, then rendered from that EDL."""
    root = Path(project_path)
    if (ended := finished_outcome(root, job_id)) is not None:
        return ended
    publish = Publisher(project_root=root, topic=topic, job_id=job_id, node_id=node_id)
    watch = CancelWatch(job_log.cancel_marker(root, job_id))
    try:
        wait_for_turn(publish, watch)  # the queue's pause and its moves to the front
    except BaseException:
        publish.close()
        watch.close()
        raise
    remove_leftovers(root, job_id)  # a retry: what the dead attempt left
    try:
        if edl is None:
            if watch.marker.exists():
                return _fail(publish, ErrorCode.CANCELED,
                             "the render was canceled before it started")  # fmt: skip
            exported = exported_before(root, job_id) or _export_after_posts(
                root, graph or {}, node_id, after or []
            )
            if isinstance(exported, str):
                return _fail(publish, ErrorCode.INPUT_INVALID, exported)
            edl, otio, fcp_xml = exported
            # Durable before the render starts: a retry (this worker dies) renders this EDL
            # rather than export and commit another version of it.
            export_info = dict(zip(EXPORTED, exported, strict=True))
            publish.with_info("server:task_progress", info=export_info, task_id=job_id,
                              node_id=node_id, progress=0.0,
                              step=f"exported {Path(edl).name}")  # fmt: skip
        outcome = _render(
            publish, watch, root, edl=edl, otio=otio, fcp_xml=fcp_xml, title=title,
            frame_rate_label=frame_rate_label, size=size, quality=quality,
        )  # fmt: skip
    except StudioError as exc:  # deterministic: a retry would fail the same way
        outcome = _fail(publish, ErrorCode.ENGINE_ERROR, str(exc))
    finally:
        remove_leftovers(root, job_id)
        publish.close()
        watch.close()
    return outcome


EXPORTED: Final = ("edl", "otio", "fcp_xml")
"""The job log ``info`` keys of the EDL export a render renders (project-relative paths)."""


def exported_before(root: Path, job_id: str) -> tuple[str, str | None, str | None] | None:
    """The EDL export an earlier attempt of render job ``job_id`` made after its post steps
    (the job log's ``info`` has it, and the EDL is there), else None."""
    state = job_log.snapshot(root).jobs.get(job_id)
    if state is None or not isinstance(edl := state.info.get("edl"), str):
        return None
    if not (root / edl).is_file():
        return None
    otio, fcp_xml = (value if isinstance(value := state.info.get(key), str) else None
                     for key in EXPORTED[1:])  # fmt: skip
    return edl, otio, fcp_xml


def _export_after_posts(
    root: Path, graph: dict[str, Any], node_id: str, after: list[dict[str, Any]]
) -> tuple[str, str, str] | str:
    """The post steps the render waited for are done: the sequence compiled again (their
    outputs are cut now) and exported as the next EDL version; why not, when it cannot be."""
    from studio.assembly.export import export_edl
    from studio.assembly.resolve import sequence_inputs
    from studio.assembly.sequence import compile_sequence

    failed = [outcome for outcome in after if not outcome.get("ok")]
    if failed:
        return (
            f"a post step the render waited for did not make its output "
            f"({failed[0].get('error') or 'it failed'}); nothing was rendered"
        )
    project = Project(root)
    try:
        inputs = sequence_inputs(project, graph, assembler_id=node_id)
        sequence = compile_sequence(graph, inputs, assembler_id=node_id)
        if sequence.pending:
            step = sequence.pending[0]
            return (
                f"{step.node_type} {step.node_id!r} still has no output of its current "
                "settings; generate it, then render again"
            )
        export = export_edl(project, sequence)
    except SequenceError as exc:
        return str(exc)
    edl, otio, fcp_xml = (path.relative_to(root).as_posix() for path in export.paths)
    return edl, otio, fcp_xml


def finished_outcome(project_root: Path, job_id: str) -> dict[str, Any] | None:
    """The outcome of a render job the job log says has ended, else None. Dask computes a
    kept (fire-and-forget) task again when the worker holding its result leaves (a cluster
    shutting down one worker at a time): that run must not render a second film."""
    state = job_log.snapshot(project_root).jobs.get(job_id)
    if state is None or not state.finished:
        return None
    if state.state == "success":
        return {"ok": True, **{k: v for k, v in state.status.items() if k not in _STATUS_KEYS}}
    return {"ok": False, "code": state.code or ErrorCode.ENGINE_ERROR, "error": state.error or ""}


_STATUS_KEYS: Final = frozenset({"state", "task_id", "progress", "step"})
"""A node status's own keys; the rest of a success's status is its result."""


def _render(
    publish: Publisher,
    watch: CancelWatch,
    root: Path,
    *,
    edl: str,
    otio: str | None,
    fcp_xml: str | None,
    title: str,
    frame_rate_label: str,
    size: tuple[int, int],
    quality: Quality,
) -> dict[str, Any]:
    if (canceled := begin(publish, watch, what="render")) is not None:
        return canceled
    relay = _ProgressRelay(publish)
    relay.step(f"reading {Path(edl).name}")
    project = Project(root)
    try:
        text = (root / edl).read_text(encoding="utf-8-sig")
    except OSError as exc:
        return _fail(publish, ErrorCode.INPUT_INVALID, f"{edl}: {exc.strerror or exc}")
    files = files_named_by_edl(project, text)
    pointers = {rel: file for file, rel in files.values() if lfs.looks_like_pointer(file)}
    if pointers:
        relay.step(f"pulling {len(pointers)} file(s) from Git LFS")
        if (problem := fetch_pointers(root, pointers)) is not None:
            return _fail(publish, ErrorCode.INPUT_INVALID, problem)
    try:
        sequence = sequence_from_edl(
            text,
            frame_rate=frame_rate(frame_rate_label),
            media=media_named_by_edl(project, text),
            title=title,
            size=size,
        )
        if left := lfs_pointer_sources(sequence, root=root):  # pulled, yet still pointers
            raise LFSPointerMedia(
                f"{', '.join(left)} are still Git LFS pointers",
                hint=f"run `{pull_command(left)}` in {root}",
            )
    except SequenceError as exc:
        return _fail(publish, ErrorCode.INPUT_INVALID, f"{Path(edl).name}: {exc}")
    staging = staging_folder(root, publish.job_id)
    staging.mkdir(parents=True, exist_ok=True)
    stem = file_stem(title)
    relay(RenderProgress(frames_done=0, frames_total=sequence.duration))
    preset, crf = ENCODER_SETTINGS.get(quality, (DEFAULT_PRESET, DEFAULT_CRF))
    try:
        report = render_sequence(
            sequence,
            root=root,
            output=staging / f"{stem}.{FILM_EXTENSION}",
            on_progress=relay,
            cancel=watch.event,
            preset=preset,
            crf=crf,
        )
    except RenderCanceled:
        return _fail(publish, ErrorCode.CANCELED, "the render was canceled; nothing was exported")
    except RenderFailed as exc:  # the encoder, a font, a reader: not the edit's fault
        return _fail(publish, ErrorCode.ENGINE_ERROR, str(exc))
    except SequenceError as exc:  # LFSPointerMedia among them: said with its command
        return _fail(publish, ErrorCode.INPUT_INVALID, str(exc))
    version, film = publish_versioned(report.output, root / EXPORTS_DIR, stem, FILM_EXTENSION)
    result: dict[str, Any] = {
        "output_url": film.relative_to(root).as_posix(),
        "export": film.name,
        "version": version,
        "edl": edl,
        "otio": otio,
        "fcp_xml": fcp_xml,
        "frames": report.frames,
        "duration_s": float(sequence.seconds),
        "frame_rate": sequence.frame_rate.label,
        "width": sequence.width,
        "height": sequence.height,
        "render_s": round(report.seconds, 3),
        "quality": quality,
        "worker": publish.worker_address,
    }
    result = {k: v for k, v in result.items() if v is not None}
    publish("server:task_success", task_id=publish.job_id, node_id=publish.node_id,
            result=result)  # fmt: skip
    return {"ok": True, **result}
