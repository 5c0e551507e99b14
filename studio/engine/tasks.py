"""Task functions that run on Dask workers (issue 5 item 2), with the PRD's names.

``execute_shot_node`` is a plain function: everything it needs arrives as arguments (the
project folder, a snapshot of the graph, the dispatcher's choice, the seed), so a retry on
another worker does the same thing. Order of work, chosen so no partial take is ever visible:
run the pipeline into a private job folder first; only when it succeeded reserve the take,
fill it atomically, record provenance and commit (``commit_paths`` is serialized per project).

Events go two ways at once: ``Worker.log_event(topic, ...)`` for live relay to the kernel and
the durable job log (:mod:`studio.engine.jobs`) for whoever asks later.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from studio.config import load_settings
from studio.documents import load_model
from studio.engine import jobs as job_log
from studio.engine.cancel_watch import CancelWatch
from studio.engine.dask_heaps import pull_moved_task
from studio.engine.inputs import (
    Overrides,
    ShotInputs,
    assign_media,
    locate_media,
    pipeline_inputs,
    resolve_node,
    resolve_shot,
)
from studio.engine.pause import (
    GIVE_WAY_AGAIN_S,
    HELD_STEP,
    forget_yields,
    hold_while_paused,
    yield_to,
)
from studio.engine.runners import worker_runners
from studio.errors import GitError, InvalidInput, ManifestError, StudioError
from studio.models import ModelMissing, model_digests, require_models
from studio.pipelines import InputInvalid, Manifest, Pipeline, get_pipeline
from studio.post import post_state
from studio.project.outputs import list_outputs, output_stem, reserve_output, scan_outputs
from studio.project.project import Project
from studio.project.provenance import Provenance, SweepMark, utc_now
from studio.project.takes import SIDECAR_SUFFIX, Take, scan_folder, take_stem
from studio.quality import Quality
from studio.runner.base import create_job
from studio.runner.contract import OUTPUTS_DIR, ErrorCode, Event, ProgressEvent

WORKDIR_PREFIX: Final = "studio-job-"


def task_key(job_id: str) -> str:
    """The Dask key of a job's task (the scheduler knows a live job by it)."""
    return f"execute_shot_node-{job_id}"


def project_topic(project_uuid: str) -> str:
    """The Dask event topic of one project: every job of the project publishes there."""
    return f"studio-project-{project_uuid}"


# --- publishing ------------------------------------------------------------------------------


class _Sender:
    """The one thread of this process that sends every Publisher's :meth:`Publisher.nowait`
    events (started at the first, kept: a job starts no thread of its own for them)."""

    def __init__(self) -> None:
        self._due: queue.SimpleQueue[Publisher] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def schedule(self, publisher: Publisher) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="studio-events")  # fmt: skip
                self._thread.start()
        self._due.put(publisher)

    def _run(self) -> None:
        while True:
            self._due.get()._send_pending()


_sender = _Sender()


def _new_sender() -> None:
    # A child forked while the thread ran has no such thread (and maybe a held lock).
    global _sender
    _sender = _Sender()


os.register_at_fork(after_in_child=_new_sender)


class Publisher:
    """Sends a job's events to the Dask topic (when on a worker) and the durable log.

    Events that need not be on disk before the caller goes on (``generating``, progress:
    :meth:`nowait`) are sent by the process's sending thread, in order (those queued
    meanwhile in one append, one fsync), so neither the job's start nor the runner's pump
    thread that reports progress (the pipeline's result comes through that same thread)
    waits for the log's fsync; any other event first waits until everything before it is
    sent, so the log and the topic keep the order things happened in."""

    def __init__(self, *, project_root: Path, topic: str, job_id: str, node_id: str) -> None:
        self.project_root = project_root
        self.topic = topic
        self.job_id = job_id
        self.node_id = node_id
        try:
            from distributed import get_worker

            self._worker: Any = get_worker()
        except ValueError:  # called outside a worker (a direct call): durable log only
            self._worker = None
        self._pending: list[dict[str, Any]] = []
        self._scheduled = False  # the sending thread has this publisher due, or is sending
        self._sent = threading.Condition()
        self._failure: BaseException | None = None

    @property
    def worker_address(self) -> str | None:
        return str(self._worker.address) if self._worker is not None else None

    @property
    def worker_resources(self) -> dict[str, float]:
        """What this job's worker declares (its Dask resources: ``VRAM``, ``CPU``)."""
        if self._worker is None:
            return {}
        return {str(k): float(v) for k, v in self._worker.state.total_resources.items()}

    def release_slot(self) -> None:
        """Let this worker start its next job now (Dask's ``secede``): what is left of this
        one (storing and committing the take) needs no pipeline, so the next pipeline runs
        while it commits. This job's result still comes after its commit, and the resources
        it asked for (``VRAM``) stay held until then."""
        if self._worker is None:
            return
        from distributed import secede

        with contextlib.suppress(ValueError, AttributeError):  # not in a worker's task thread
            secede()  # type: ignore[no-untyped-call]  # distributed is untyped

    def __call__(self, event: str, **payload: Any) -> None:
        self.flush()
        self._send([job_log.record(job_id=self.job_id, event=event, payload=payload)])

    def with_info(self, event: str, *, info: dict[str, Any], **payload: Any) -> None:
        """Send ``event`` durably with ``info`` for the job log's record of the job (what a
        retry of the job reads back: a render's EDL exported by an earlier attempt)."""
        self.flush()
        self._send([job_log.record(job_id=self.job_id, event=event, payload=payload, info=info)])

    def nowait(self, event: str, **payload: Any) -> None:
        """Send ``event`` in order, without making the caller wait for it."""
        line = job_log.record(job_id=self.job_id, event=event, payload=payload)
        with self._sent:
            self._pending.append(line)
            if self._scheduled:
                return
            self._scheduled = True
        _sender.schedule(self)

    def flush(self) -> None:
        """Return once every :meth:`nowait` event so far is sent; raise what stopped one
        from being sent (a full disk, say) as the caller's own error."""
        self._wait_sent()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def close(self) -> None:
        """Send what is left."""
        self._wait_sent()

    def _wait_sent(self) -> None:
        with self._sent:
            self._sent.wait_for(lambda: not self._scheduled)

    def _send_pending(self) -> None:
        """On the sending thread: send what is queued, in one append."""
        with self._sent:
            lines, self._pending = self._pending, []
        try:
            if self._failure is None:
                self._send(lines)
        except BaseException as exc:  # kept for flush(): this thread has no caller
            self._failure = exc
        with self._sent:
            if self._pending:
                _sender.schedule(self)  # more came meanwhile: still due, behind the others
            else:
                self._scheduled = False
                self._sent.notify_all()

    def _send(self, lines: list[dict[str, Any]]) -> None:
        # Durable first: a reader of the log never lags behind what the canvas showed.
        job_log.append_many(self.project_root, lines)
        if self._worker is not None:
            # Worker.log_event is safe from any thread (it hops onto the worker's loop in
            # call order).
            for line in lines:
                self._worker.log_event(self.topic, line)


def _progress_payload(event: ProgressEvent) -> tuple[float, str]:
    percent = 100.0 * event.step / event.total if event.total else 0.0
    step = event.message or (f"step {event.step}/{event.total}" if event.total else "")
    return min(percent, 100.0), step


# --- the task ------------------------------------------------------------------------------


def _fail(publish: Publisher, code: str, message: str) -> dict[str, Any]:
    publish("server:task_failed", task_id=publish.job_id, node_id=publish.node_id,
            error=message, code=code)  # fmt: skip
    if code == ErrorCode.CANCELED:
        publish("server:node_state_updated", node_id=publish.node_id, state="canceled",
                task_id=publish.job_id)  # fmt: skip
    return {"ok": False, "code": code, "error": message}


def job_workdir(job_id: str) -> Path:
    """A fresh private scratch folder for this attempt (``mkdtemp``: mode 0700, owned by
    this user, an unpredictable name)."""
    return Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{job_id}-"))


def remove_stale_workdirs(job_id: str) -> None:
    """Remove the scratch folders earlier attempts of this job left (killed with their
    worker). Only a retry looks: an attempt makes its folder after its attempt marker, so
    without a marker there is none, and a first attempt need not list the temp folder."""
    scratch = Path(tempfile.gettempdir())
    for stale in scratch.glob(f"{WORKDIR_PREFIX}{job_id}-*"):
        with contextlib.suppress(OSError):  # another user's, or already gone
            if not stale.is_symlink() and stale.is_dir() and stale.stat().st_uid == os.getuid():
                shutil.rmtree(stale)


def execute_shot_node(
    *,
    project_path: str,
    job_id: str,
    node_id: str,
    graph: dict[str, Any],
    pipeline_id: str,
    quality: Quality,
    seed: int,
    topic: str,
    overrides: Overrides | None = None,
    sweep: SweepMark | None = None,
) -> dict[str, Any]:
    """Generate one take of a Shot node; returns ``{"ok": True, "take": path, ...}`` or
    ``{"ok": False, "code": ..., "error": ...}`` for a failure that would only repeat (a bad
    input, a cancel, a pipeline error, a commit refused). Unexpected errors (disk, a crash)
    raise, so Dask's ``retries`` apply; a retry first settles what the dead attempt left.
    ``overrides``: values used instead of the node's (its prompt, pipeline inputs); ``sweep``:
    the sweep cell this take is, recorded in its provenance."""

    def work(publish: Publisher, watch: CancelWatch, workdir: Path) -> dict[str, Any]:
        return _execute(publish, watch, Path(project_path), workdir, graph, pipeline_id,
                        quality, seed, overrides=overrides, sweep=sweep)  # fmt: skip

    return _attempt(project_path=project_path, job_id=job_id, node_id=node_id, graph=graph,
                    topic=topic, work=work)  # fmt: skip


def execute_post_node(
    *,
    project_path: str,
    job_id: str,
    node_id: str,
    graph: dict[str, Any],
    quality: Quality,
    topic: str,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run a post node's pipeline on its upstream output (read when the task runs: a step
    submitted ``after`` the one before it runs on that one's new output) and store the result
    as the next output of that source; the outcome as :func:`execute_shot_node`'s. ``after``:
    the earlier step's outcome (Dask passes it in once that task is done)."""

    def work(publish: Publisher, watch: CancelWatch, workdir: Path) -> dict[str, Any]:
        if watch.marker.exists():  # canceled while queued (its render was, say): said so
            return _fail(publish, ErrorCode.CANCELED, "the job was canceled before it started")
        if after is not None and not after.get("ok"):
            return _fail(publish, ErrorCode.INPUT_INVALID, "the post step before this one "
                         f"did not make its output ({after.get('error')}), so this one did "
                         "not run")  # fmt: skip
        return _execute_post(publish, watch, Path(project_path), workdir, graph, quality)

    return _attempt(project_path=project_path, job_id=job_id, node_id=node_id, graph=graph,
                    topic=topic, work=work)  # fmt: skip


Work = Callable[["Publisher", "CancelWatch", Path], dict[str, Any]]


def _attempt(
    *,
    project_path: str,
    job_id: str,
    node_id: str,
    graph: dict[str, Any],
    topic: str,
    work: Work,
) -> dict[str, Any]:
    """One attempt of a job: events, its cancel watch, its attempt marker (a retry settles
    what a dead attempt left first) and its scratch folder around ``work``."""
    root = Path(project_path)
    publish = Publisher(project_root=root, topic=topic, job_id=job_id, node_id=node_id)
    watch = CancelWatch(job_log.cancel_marker(root, job_id))
    try:
        wait_for_turn(publish, watch)
    except BaseException:
        publish.close()
        watch.close()
        raise
    attempt = job_log.attempt_marker(root, job_id)
    retry = attempt.exists()  # an earlier attempt got this far, and may have left things
    if retry:
        remove_stale_workdirs(job_id)
    workdir: Path | None = None
    try:
        if retry and (done := _recover(Project(root), graph, node_id, job_id)):
            outcome = _succeed(publish, root, done, recovered=True)
        else:
            attempt.parent.mkdir(parents=True, exist_ok=True)
            attempt.touch()
            workdir = job_workdir(job_id)  # after the marker (see remove_stale_workdirs)
            outcome = work(publish, watch, workdir)
    except GitError:
        raise  # may be transient (a lock, a full disk being cleared): Dask's retries apply
    except StudioError as exc:  # deterministic: a retry would fail the same way
        outcome = _fail(publish, ErrorCode.ENGINE_ERROR, str(exc))
    finally:
        publish.close()
        watch.close()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    # Only an attempt that reached an outcome clears its marker: after an exception (even
    # past the commit) the retry must look for what this attempt left.
    attempt.unlink(missing_ok=True)
    return outcome


def _recover(project: Project, graph: dict[str, Any], node_id: str, job_id: str) -> Take | None:
    """An earlier attempt of this job died (its worker was killed): settle what it left."""
    target = resolve_node(graph, node_id)
    return recover_attempt(project, scene=target.scene, shot=target.shot, job_id=job_id,
                           by="retry")  # fmt: skip


def recover_attempt(
    project: Project, *, scene: int, shot: int, job_id: str, by: Literal["retry", "settle"]
) -> Take | None:
    """Settle what a dead attempt of job ``job_id`` left in the shot's folder (its Dask retry
    and the settling of a lost job both come here). Its take, if complete (written and
    recorded), is the result: committed now if it was not yet, marked recovered in its
    provenance. An empty or unfinished one is removed (media, then sidecar), so no partial
    file stays visible and exactly one take results. A post job's outputs
    (:mod:`studio.project.outputs`) are settled the same way."""
    found = None
    made = [*project.takes(scene=scene, shot=shot), *list_outputs(project.path, scene=scene,
                                                                  shot=shot)]  # fmt: skip
    for take in made:
        provenance, _ = take.read_provenance()
        if provenance is None or provenance.job_id != job_id:
            continue
        if _committed(project, take):
            found = found or take
            continue
        if take.ready and provenance.finished_at is not None:
            if found is None:  # a second complete one is never removed (doctor reports it)
                take.record(recovered_at=utc_now(), recovered_by=by)
                project.commit_takes([take], message=f"Generate {take.name} (recovered {job_id})")
                found = take
            continue
        take.path.unlink(missing_ok=True)
        take.sidecar_path.unlink(missing_ok=True)
    _remove_bare_reservations(project, scene=scene, shot=shot, job_id=job_id)
    return found


def _bare_sidecars(folder: Path, *, shot: int) -> list[Path]:
    """Sidecars (of takes and outputs) whose media file is not there."""
    scan, outputs = scan_folder(folder), scan_outputs(folder)
    bare = [
        folder / (take_stem(shot=shot, version=i.version, number=i.number) + SIDECAR_SUFFIX)
        for i in scan.sidecars - set(scan.takes)
    ]
    for i in outputs.sidecars - set(outputs.outputs):
        stem = output_stem(source_stem=i.source, kind=i.kind, version=i.version, number=i.number)
        bare.append(folder / (stem + SIDECAR_SUFFIX))
    return bare


def _remove_bare_reservations(project: Project, *, scene: int, shot: int, job_id: str) -> None:
    """Sidecars of ``job_id`` without a media file (killed between the two steps of a
    reservation: the sidecar is published first)."""
    for sidecar in _bare_sidecars(project.shot_path(scene=scene, shot=shot), shot=shot):
        with contextlib.suppress(ManifestError):
            if load_model(sidecar, Provenance).job_id == job_id:
                sidecar.unlink(missing_ok=True)


def success_result(root: Path, take: Take, *, recovered: bool = False) -> dict[str, Any]:
    """``server:task_success``'s result for ``take`` (``recovered``: made by an attempt that
    died, settled afterwards)."""
    from studio.project.thumbnails import make_thumbnail

    result: dict[str, Any] = {"output_url": take.path.relative_to(root).as_posix(),
                              "take": take.name}  # fmt: skip
    # Made here, once, by the worker that wrote the take; front ends link the cached file.
    if (thumbnail := make_thumbnail(root, take)) is not None:
        result["thumbnail"] = thumbnail.relative_to(root).as_posix()
    if recovered:
        result["recovered"] = True
    return result


def _succeed(
    publish: Publisher, root: Path, take: Take, *, recovered: bool = False
) -> dict[str, Any]:
    result = success_result(root, take, recovered=recovered)
    publish("server:task_success", task_id=publish.job_id, node_id=publish.node_id,
            result=result)  # fmt: skip
    return {"ok": True, "take": result["output_url"], "name": take.name}


def wait_for_turn(publish: Publisher, watch: CancelWatch) -> None:
    """The queue's gate, before a job starts anything (:mod:`studio.engine.queue`). While the
    project's queue is paused the job waits here, on its worker slot, still queued and still
    cancellable (a Cancel returns at once: the job then reports it). A job that Dask handed
    this worker before another was moved to the front gives way to that one while it still
    waits (for a while: :func:`studio.engine.pause.yield_to`): the moved job's task, if it
    waits in the scheduler's queue, is sent to this worker, and this job goes back to Dask
    (``Reschedule``); the worker then starts the moved one first (its priority is above)."""
    if publish.worker_address is None:  # called outside a worker: no queue to wait in
        return
    root, resources = publish.project_root, publish.worker_resources

    def give_way_if_moved(held: bool) -> None:
        give_way = yield_to(root, publish.job_id, resources=resources)
        if give_way is not None and give_way.again:
            if watch.event.wait(GIVE_WAY_AGAIN_S):
                return  # canceled meanwhile: the hold ends, the job reports it
            give_way = yield_to(root, publish.job_id, resources=resources)  # still waiting?
        if give_way is None:
            return
        if held:  # no longer on a worker: not held any more
            publish("server:node_state_updated", node_id=publish.node_id,
                    state="queued", task_id=publish.job_id, step="")  # fmt: skip
        if give_way.key is not None:
            pull_moved_task(give_way.key)
        from distributed import Reschedule

        raise Reschedule()

    def held() -> None:
        publish("server:node_state_updated", node_id=publish.node_id, state="queued",
                task_id=publish.job_id, step=HELD_STEP)  # fmt: skip

    hold_while_paused(root, stop=watch.event, on_held=held, each_look=give_way_if_moved)
    forget_yields(root, publish.job_id)  # it starts (or ends, canceled): no more giving way


def begin(publish: Publisher, watch: CancelWatch, *, what: str = "job") -> dict[str, Any] | None:
    """A job's start: its node says "generating", and None is returned; or, canceled while
    queued, nothing at all is done and the CANCELED outcome is returned."""
    if watch.marker.exists():
        return _fail(publish, ErrorCode.CANCELED, f"the {what} was canceled before it started")
    publish.nowait("server:node_state_updated", node_id=publish.node_id, state="generating",
                   task_id=publish.job_id)  # fmt: skip
    return None


def _execute(
    publish: Publisher,
    watch: CancelWatch,
    root: Path,
    workdir: Path,
    graph: dict[str, Any],
    pipeline_id: str,
    quality: Quality,
    seed: int,
    *,
    overrides: Overrides | None = None,
    sweep: SweepMark | None = None,
) -> dict[str, Any]:
    job_id, node_id = publish.job_id, publish.node_id
    if (canceled := begin(publish, watch)) is not None:
        return canceled
    started = datetime.now(UTC)
    project = Project(root)
    try:
        shot = (overrides or Overrides()).apply(resolve_shot(graph, node_id))
        pipeline = get_pipeline(pipeline_id)
        media = assign_media(pipeline, [locate_media(root, m) for m in shot.media])
        settings = project.manifest.project_settings
        values = pipeline_inputs(
            pipeline, shot, seed=seed, aspect_ratio=settings.aspect_ratio, media=media,
            overrides=overrides,
        )  # fmt: skip
    except StudioError as exc:
        return _fail(publish, ErrorCode.INPUT_INVALID, exc.message)
    # Provenance and the creative fingerprint name media by take or project path, not by
    # where this worker happened to read them.
    recorded = {**values, **{name: item.reference for name, item in media.items()}}
    try:
        # Checked in the kernel before queueing; again here, where the job runs.
        models = require_models(pipeline.id, pipeline.manifest.models, project_root=root)
    except StudioError as exc:  # missing, or a store whose models.json does not read
        return _fail(publish, ErrorCode.SETUP_FAILED, exc.message)
    vram_gb = publish.worker_resources.get("VRAM", 0.0)
    clock = time.monotonic()
    runner = worker_runners().for_pipeline(pipeline, quality=quality)  # kept across jobs
    lighter = 0
    while True:
        try:
            job_dir = create_job(pipeline, values, job_dir=workdir / f"job-{lighter}",
                                 quality=quality, job_id=job_id, models=models,
                                 vram_gb=vram_gb, lighter=lighter)  # fmt: skip
        except InputInvalid as exc:
            return _fail(publish, ErrorCode.INPUT_INVALID, exc.message)
        result = runner.run(pipeline, job_dir, on_event=_progress_to(publish), cancel=watch.event)
        problem = result.error
        if result.ok or problem is None or problem.memory != "gpu" or lighter:
            break  # offloading to the host helps only when the GPU's memory ran out
        if watch.event.is_set() or watch.marker.exists():
            break  # canceled meanwhile: no retry
        lighter = 1  # once: a lighter memory strategy (offloading) instead of failing
        publish("server:notification", level="warning", node_id=node_id,
                message=f"{pipeline.id} ran out of memory ({problem.message}); generating "
                "again once with a lighter memory strategy")  # fmt: skip
    if not result.ok:
        code = problem.code if problem else ErrorCode.MODEL_ERROR
        message = problem.message if problem else "the job failed"
        if lighter and code == ErrorCode.OOM:
            message += " (also after a retry with a lighter memory strategy)"
        return _fail(publish, code, message)
    output = pipeline.manifest.outputs[0].name
    produced = result.output_path(job_dir, output)
    publish.release_slot()
    take = _store_take(
        project,
        shot=shot,
        produced=produced,
        pipeline=pipeline,
        values=recorded,
        seed=seed,
        quality=quality,
        job_id=job_id,
        provenance={
            "worker": publish.worker_address,
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "runner": result.runner,
            "image_digest": result.image_digest,
            "duration_s": round(time.monotonic() - clock, 3),
            **({"sweep": sweep.model_dump(mode="json")} if sweep is not None else {}),
            **generation_provenance(pipeline, job_dir, project_root=root),
        },
    )
    return _succeed(publish, root, take)


GENERATION_FILE: Final = "generation.json"
"""What a model pipeline writes beside its output: model, scheduler, steps, guidance, seed."""


def generation_provenance(
    pipeline: Pipeline, job_dir: Path, *, project_root: Path
) -> dict[str, Any]:
    """The take's record of how its model made it: the weights' digests from the model store
    (the store's, not the pipeline's word) and the pipeline's ``generation.json``."""
    found: dict[str, Any] = {}
    if pipeline.manifest.models:
        found["models"] = model_digests(pipeline.manifest.models, project_root=project_root)
    try:
        generation = json.loads((job_dir / OUTPUTS_DIR / GENERATION_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        generation = None
    if isinstance(generation, dict):
        found["generation"] = generation
    return found


def _store_take(
    project: Project,
    *,
    shot: ShotInputs,
    produced: Path,
    pipeline: Pipeline,
    values: dict[str, Any],
    seed: int,
    quality: Quality,
    job_id: str,
    provenance: dict[str, Any],
) -> Take:
    """Reserve, fill, record, commit. If anything fails between reserving and committing,
    the reservation is removed so a retry never leaves an empty "pending" take behind."""
    creative = {k: v for k, v in values.items() if k not in ("prompt", "seed")}
    take = project.new_take(
        job_id=job_id,
        lease_s=take_lease_s(pipeline.manifest),
        scene=shot.scene,
        shot=shot.shot,
        ext=produced.suffix,
        pipeline=pipeline.id,
        prompt=shot.prompt,
        inputs=creative,
        seed=seed,
        quality=quality,
    )
    return _fill_and_commit(
        project, take, produced=produced, provenance=provenance,
        message=f"Generate {take.name} ({pipeline.id}, {quality})",
    )  # fmt: skip


def _fill_and_commit(
    project: Project, take: Take, *, produced: Path, provenance: dict[str, Any], message: str
) -> Take:
    """Fill a reserved take (or output), record how it was made, commit it. If anything fails
    before the commit, the reservation is removed so a retry never leaves an empty one."""
    from studio.project.thumbnails import make_thumbnail  # Pillow: imported where used

    try:
        take.write_from(produced, sync_folder=False)
        take.record(**provenance)  # syncs the folder: the take's name and its sidecar's
        with _meanwhile(lambda: make_thumbnail(project.path, take)):  # git waits, PIL works
            project.commit_takes([take], message=message)
    except BaseException:
        if not _committed(project, take):
            take.path.unlink(missing_ok=True)
            take.sidecar_path.unlink(missing_ok=True)
        raise
    return take


def _execute_post(
    publish: Publisher,
    watch: CancelWatch,
    root: Path,
    workdir: Path,
    graph: dict[str, Any],
    quality: Quality,
) -> dict[str, Any]:
    job_id, node_id = publish.job_id, publish.node_id
    if (canceled := begin(publish, watch)) is not None:
        return canceled
    started = datetime.now(UTC)
    project = Project(root)
    try:
        state = post_state(project, graph, node_id)  # its source as it is now
        if state.run is None:
            raise InvalidInput(state.problem or f"{node_id}: nothing to run on")
        run = state.run
        values = {run.media_input: str(run.source.path), **run.settings}
        models = require_models(run.pipeline.id, run.pipeline.manifest.models, project_root=root)
        job_dir = create_job(run.pipeline, values, job_dir=workdir / "job", quality=quality,
                             job_id=job_id, models=models)  # fmt: skip
    except ModelMissing as exc:
        return _fail(publish, ErrorCode.SETUP_FAILED, exc.message)
    except StudioError as exc:
        return _fail(publish, ErrorCode.INPUT_INVALID, exc.message)
    clock = time.monotonic()
    result = (
        worker_runners()
        .for_pipeline(run.pipeline, quality=quality)
        .run(run.pipeline, job_dir, on_event=_progress_to(publish), cancel=watch.event)
    )
    if not result.ok:
        problem = result.error
        code = problem.code if problem else ErrorCode.MODEL_ERROR
        return _fail(publish, code, problem.message if problem else "the job failed")
    produced = result.output_path(job_dir, run.pipeline.manifest.outputs[0].name)
    publish.release_slot()
    post = run.post
    output = reserve_output(
        project.path, source=run.source, kind=post.kind, ext=produced.suffix,
        pipeline=run.pipeline.id, inputs=run.recorded, quality=quality, job_id=job_id,
        lease_s=take_lease_s(run.pipeline.manifest), recorded=run.provenance(),
    )  # fmt: skip
    _fill_and_commit(
        project, output, produced=produced,
        provenance={
            "worker": publish.worker_address,
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "runner": result.runner,
            "image_digest": result.image_digest,
            "duration_s": round(time.monotonic() - clock, 3),
        },
        message=f"{post.label}: {output.name} from {run.source.name} ({run.pipeline.id})",
    )  # fmt: skip
    return _succeed(publish, root, output)


def _progress_to(publish: Publisher) -> Callable[[Event], None]:
    def on_event(event: Event) -> None:
        if isinstance(event, ProgressEvent):
            progress, step = _progress_payload(event)
            publish.nowait("server:task_progress", task_id=publish.job_id,
                           node_id=publish.node_id, progress=progress, step=step)  # fmt: skip

    return on_event


_helpers: concurrent.futures.ThreadPoolExecutor | None = None


def _helper_threads() -> concurrent.futures.ThreadPoolExecutor:
    """Threads kept for :func:`_meanwhile` (a job starts none of its own)."""
    global _helpers
    if _helpers is None:
        _helpers = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="studio-meanwhile")
    return _helpers


def _no_helpers() -> None:
    global _helpers
    _helpers = None  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_no_helpers)


@contextlib.contextmanager
def _meanwhile(work: Callable[[], object]) -> Iterator[None]:
    """Run ``work`` on a helper thread while the block runs; its errors are ignored (it is a
    head start on something done again, properly, later)."""

    def run() -> None:
        with contextlib.suppress(Exception):
            work()

    done = _helper_threads().submit(run)
    try:
        yield
    finally:
        done.result()


def take_lease_s(manifest: Manifest) -> float:
    """How long a take reserved by a job of this pipeline may live: the pipeline's time limit
    plus the commit's (git's). The reservation is abandoned after that."""
    return float(manifest.timeout_s) + load_settings().git_timeout_s


def _committed(project: Project, take: Take) -> bool:
    """True once HEAD holds the take (staged is not committed: a commit killed between its
    index update and its ref update leaves the take staged, and settling commits it)."""
    from studio.project import repo

    with contextlib.suppress(StudioError):
        return repo.is_committed(project.path, take.path)
    return False
