"""The kernel side of the engine (issue 5 items 3-5): dispatch, submit, relay events, jobs.

>>> engine = Engine()                        # STUDIO_SCHEDULER, or a local cluster
>>> job = engine.generate(project, "shot-1")  # -> Job at once; the take is made on a worker
>>> take = job.result(timeout=120)
>>> canvas.use_engine(engine)                 # its Generate buttons run here (studio.service)

One subscription per project topic receives every worker event; each is handed to its
``Job`` (``job.events``) and to the listeners of that project (the canvas). Submission writes
a durable "queued" record first, so ``project_jobs()`` knows a job from the moment it exists.

Beside it: settling lost jobs (:mod:`studio.engine.settling`), where the engine's settings
come from (:mod:`studio.engine.settings`), a job's notebook progress bar
(:mod:`studio.engine.progress_bar`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from studio.config import load_settings
from studio.engine import jobs as job_log
from studio.engine import settling
from studio.engine.cluster import connect, dashboard_html, worker_vram
from studio.engine.dispatch import (
    DRAFT_PIPELINES,
    Dispatch,
    DispatchPolicy,
    Option,
    dispatch,
    ladder_from_map,
)
from studio.engine.inputs import Overrides, override_problems, pipeline_aspect_ratio, resolve_node
from studio.engine.progress_bar import Watcher, progress_bar
from studio.engine.settings import engine_setting, project_quality_map, project_setting
from studio.engine.settling import settle
from studio.engine.tasks import execute_post_node, execute_shot_node, project_topic, task_key
from studio.errors import InvalidInput, StudioError, TakeError
from studio.events import fold_status, is_final, status_node
from studio.models import require_models
from studio.pipelines import (
    Pipeline,
    PipelineNotFound,
    cell_problem,
    discover,
    find_pipeline,
    get_pipeline,
)
from studio.post import check_runnable, resolve_post, stale_chain
from studio.project.outputs import list_outputs
from studio.project.takes import Take, list_takes
from studio.quality import QUALITIES, Quality, QualityMap
from studio.runner.contract import ErrorCode, JobFailed, failure

if TYPE_CHECKING:
    from distributed import Client, Future

    from studio.assembly.model import PostStep
    from studio.graph.graph import Node
    from studio.project.project import Project
    from studio.project.provenance import SweepMark

Listener = Callable[[dict[str, Any]], None]
DEFAULT_TASK: Final = "generate-image"
DEFAULT_RETRIES: Final = 1
KEEP_FINISHED_JOBS: Final = 100
"""Finished jobs an engine keeps in memory (the job log keeps them all)."""
EVENT_GRACE_S: Final = 5.0
"""After the task's result, how long to wait for its last event (events travel separately)."""


class Job:
    """One generation: ``result()`` returns the Take, ``events`` lists its Table 6 messages
    in arrival order, ``cancel()`` stops its pipeline (container or process)."""

    def __init__(
        self, *, job_id: str, node_id: str, project: Project, decision: Dispatch, seed: int
    ) -> None:
        self.id = job_id
        self.node_id = node_id
        self.project = project
        self.decision = decision
        self.seed = seed
        self.events: list[dict[str, Any]] = []
        self.future: Future[dict[str, Any]] | None = None
        self.after: list[Job] = []
        self.node_data: dict[str, Any] = {}
        """Its node's fields when it was submitted (what a post step's output is made with)."""
        """The jobs whose outcomes its task waits for (a post step's earlier step, a render's
        post steps): when one of them crashes, Dask fails this one with that crash."""
        self._lock = threading.Lock()
        self._folded: dict[str, Any] = {}  # its status, as its node shows it
        self._terminal = threading.Event()
        self._watchers: list[Watcher] = []

    @property
    def pipeline(self) -> str:
        return self.decision.pipeline

    @property
    def quality(self) -> Quality:
        return self.decision.quality

    def _deliver(self, message: dict[str, Any]) -> None:
        name, payload = message["event"], message["payload"]
        with self._lock:
            self.events.append(message)
            if status_node(name, payload) is not None:
                self._folded = fold_status(self._folded, name, payload)
            status, watchers = self._folded, list(self._watchers)
        for watcher in watchers:
            watcher(dict(status))
        if is_final(status.get("state"), status.get("code")):
            self._terminal.set()

    def _status(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._folded)

    def follow(self, watcher: Watcher) -> None:
        """Call ``watcher(status)`` now and after each of the job's events (``status``: the
        job's status as its node shows it)."""
        with self._lock:
            self._watchers.append(watcher)
        watcher(self._status())

    def progress(self) -> Any:
        """A live progress bar for notebooks (ipywidgets) when not using the canvas: it
        follows the job's events (state, percent, step, then the take or the error)."""
        return progress_bar(self.pipeline, self.follow)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.progress()._repr_mimebundle_(**kwargs)

    @property
    def state(self) -> str:
        """The node state this job's events add up to (queued, generating, success, ...)."""
        return str(self._status().get("state", "queued"))

    def done(self) -> bool:
        return self._terminal.is_set()

    def result(self, timeout: float | None = None) -> Take:
        """Wait for the take. Raises ``JobFailed`` (with the runner's error code, or
        ENGINE_ERROR when no worker could finish it) when the job failed or was canceled,
        ``TimeoutError`` when ``timeout`` seconds pass first."""
        return self._take(self._outcome(timeout)["name"])

    def _outcome(self, timeout: float | None) -> dict[str, Any]:
        """The task's successful outcome, once its last event came (or its grace passed);
        what ``result()`` raises otherwise."""
        if self.future is None:
            raise StudioError(f"job {self.id} was never submitted")
        started = time.monotonic()
        try:
            outcome = self.future.result(timeout=timeout)
        except TimeoutError:
            raise
        except Exception as exc:  # no outcome of its own: the task raised or its workers died
            raise JobFailed(failure(ErrorCode.ENGINE_ERROR, crash_message(exc))) from exc
        left = (
            EVENT_GRACE_S if timeout is None else max(0.1, timeout - (time.monotonic() - started))
        )
        self._terminal.wait(min(left, EVENT_GRACE_S))
        if not outcome["ok"]:
            code = outcome["code"]
            known = code if code in ErrorCode.__members__.values() else ErrorCode.ENGINE_ERROR
            raise JobFailed(failure(ErrorCode(known), outcome["error"]))
        return outcome

    def _take(self, name: str) -> Take:
        node = resolve_node(self.project.graph.to_json(), self.node_id)
        lister = list_outputs if node.post else list_takes
        for take in lister(self.project.path, scene=node.scene, shot=node.shot):
            if take.name == name:
                return take
        raise TakeError(f"job {self.id} made {name}, but it is not in the shot's folder")

    def cancel(self) -> None:
        """Ask the job to stop: its worker stops the pipeline (or skips it, if still queued)
        and reports ``task_failed`` CANCELED then state ``canceled``."""
        job_log.request_cancel(self.project.path, self.id)

    def __repr__(self) -> str:
        return f"Job({self.id!r}, node={self.node_id!r}, {self.pipeline}, {self.state})"


@dataclass(frozen=True)
class JobRequest:
    """One job of :meth:`Engine.generate_many`: its quality (None: the project's), and a
    Shot's overrides and sweep cell (see :meth:`Engine.generate`)."""

    quality: Quality | None = None
    overrides: Overrides | None = None
    sweep: SweepMark | None = None


class Engine:
    """Submits generations to a Dask cluster and relays their events."""

    def __init__(self, *, client: Client | None = None, retries: int = DEFAULT_RETRIES) -> None:
        self.client = client if client is not None else connect()
        self.retries = retries
        self._jobs: dict[str, Job] = {}
        self._listeners: dict[str, list[Listener]] = {}
        self._subscribed: set[str] = set()
        self._lock = threading.Lock()
        settling.register(self)  # settling anywhere in this process asks it about its jobs

    @classmethod
    def for_workspace(cls, root: Path | None) -> Engine:
        """Connected to ``STUDIO_SCHEDULER``, else the ``scheduler`` of ``root``'s
        workspace.json, else a new local cluster."""
        return cls(client=connect(scheduler=engine_setting(root, "scheduler")))

    @property
    def address(self) -> str:
        # The address this client reached the scheduler at (how the job log names it).
        return str(getattr(self.client.scheduler, "address", ""))

    def _repr_html_(self) -> str:
        """In a notebook: the scheduler, its workers' declared VRAM and the dashboard link."""
        vram = worker_vram(self.client)
        gpus = ", ".join(f"{gb:g} GB" for gb in vram if gb) or "none (CPU only)"
        address = self.client.scheduler_info().get("address")
        return (
            f"<b>Studio engine</b> · scheduler <code>{address}</code>"
            f" · {len(vram)} workers · GPU memory: {gpus} · {dashboard_html(self.client)}"
        )

    # --- events ---------------------------------------------------------------------------

    def _subscribe(self, topic: str) -> None:
        with self._lock:
            if topic in self._subscribed:
                return
            self._subscribed.add(topic)
        # Subscribing before the first submit matters: topics deliver only new events.
        self.client.subscribe_topic(  # type: ignore[no-untyped-call]  # distributed is untyped
            topic, lambda event: self.relay(topic, event[1])
        )

    def relay(self, topic: str, line: dict[str, Any]) -> None:
        """Hand a job event (a job log record) to its ``Job`` and the project's listeners."""
        message = {"event": line["event"], "payload": line["payload"]}
        job = self._jobs.get(line.get("job_id", ""))
        if job is not None:
            job._deliver(message)
        for listener in list(self._listeners.get(topic, [])):
            listener(message)

    def _local(
        self, topic: str, project: Project, line: dict[str, Any], *, synced: bool = True
    ) -> None:
        """An event born in the kernel: the log (durable, unless ``synced=False``: then the
        caller syncs it), then the same path as worker events."""
        job_log.append(project.path, line, synced=synced)
        self.relay(topic, line)

    def listen(self, project: Project, listener: Listener) -> Callable[[], None]:
        """Call ``listener(message)`` for every event of the project's jobs; returns an
        unsubscribe function."""
        topic = project_topic(str(project.uuid))
        self._subscribe(topic)
        self._listeners.setdefault(topic, []).append(listener)
        return lambda: self._listeners[topic].remove(listener)

    def reconcile(self, project: Project) -> list[str]:
        """Jobs the log calls queued or generating that no cluster holds any more (the local
        cluster of a kernel that was restarted, a scheduler that stopped) are settled (see
        :func:`settle`), so neither ``project.jobs()`` nor the canvas shows a dead job as
        running. Returns their ids."""
        return settle(project)

    @property
    def connected(self) -> bool:
        return getattr(self.client, "status", "running") not in ("closing", "closed")

    @property
    def owns_scheduler(self) -> bool:
        """The scheduler runs in this process (a client of a local cluster object, as
        ``connect()`` starts when no scheduler is configured)."""
        return getattr(self.client, "cluster", None) is not None

    # --- the jobs submitted here ---------------------------------------------------------------

    def submitted(self, job_id: str) -> bool:
        """Whether this engine submitted the job and still keeps it."""
        return job_id in self._jobs

    def _remember(self, job: Job) -> None:
        """Keep ``job`` (for its events, and to cancel it); drop the oldest finished jobs past
        ``KEEP_FINISHED_JOBS`` so a long-running server does not grow without bound."""
        with self._lock:
            finished = [j for j in self._jobs.values() if j.done()]
            for old in finished[: max(0, len(finished) - KEEP_FINISHED_JOBS)]:
                self._jobs.pop(old.id, None)
            self._jobs[job.id] = job

    def running_job(self, project: Project, node_id: str) -> Job | None:
        """The newest job submitted here for ``node_id`` of ``project`` that has not finished."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in reversed(jobs):
            if job.node_id == node_id and job.project.path == project.path and not job.done():
                return job
        return None

    # --- generating -------------------------------------------------------------------------

    def decide(self, project: Project, node_id: str, *, quality: Quality | None = None) -> Dispatch:
        """The dispatcher's choice for a shot (or a post node: its pipeline field) now (raises
        ``NoWorkerFits`` / ``NoPipeline``)."""
        shot = resolve_node(project.graph.to_json(), node_id)
        settings = project.manifest.project_settings
        wanted: Quality = quality or settings.quality
        own_policy = (settings.model_extra or {}).get("dispatch_policy")
        policy: DispatchPolicy = own_policy or project_setting(project, "dispatch_policy")
        installed = discover()
        if shot.pipeline_id is not None:
            try:  # the scan above, not a second one
                manifest = find_pipeline(shot.pipeline_id, installed=installed).manifest
            except PipelineNotFound:  # a folder's path, or one that is broken: says why
                manifest = get_pipeline(shot.pipeline_id).manifest
            task: str = manifest.task
            ladder = {
                q: Option(shot.pipeline_id, manifest.resources_for(q).vram_gb) for q in QUALITIES
            }
        else:
            task = DEFAULT_TASK
            quality_map = project_quality_map(project)
            ladder = ladder_from_map(
                quality_map, task=task, vram_of=_installed_needs(quality_map, installed, task)
            )
        decision = dispatch(
            task=task,
            quality=wanted,
            ladder=ladder,
            worker_vram=worker_vram(self.client),
            policy=policy if policy in ("queue", "fallback") else "fallback",
            autoscaler=load_settings().autoscaler,
        )
        if shot.pipeline_id is None:
            # A map cell naming a pipeline that is not installed fails here, in the kernel,
            # not on a worker after queueing.
            if decision.pipeline in DRAFT_PIPELINES.values():
                find_pipeline(decision.pipeline, installed=installed)  # the CPU stand-in
            elif problem := cell_problem(
                task, decision.quality, decision.pipeline, installed=installed
            ):
                raise PipelineNotFound(problem)
        try:
            chosen = find_pipeline(decision.pipeline, installed=installed)
        except PipelineNotFound:
            return decision  # (a pipeline folder path: the worker loads it and checks there)
        # A ratio the pipeline cannot make is refused here, before queueing.
        pipeline_aspect_ratio(chosen, settings.aspect_ratio)
        # So are missing weights (never fetched at run time), with the command that adds them.
        require_models(chosen.id, chosen.manifest.models, project_root=project.path)
        return decision

    def generate(
        self,
        project: Project,
        node: str | Node,
        *,
        quality: Quality | None = None,
        after: Job | None = None,
        overrides: Overrides | None = None,
        sweep: SweepMark | None = None,
    ) -> Job:
        """Submit one take of a Shot node, or one output of a post node (run on its upstream
        output; ``after``: the job making that output, which this one waits for); returns its
        Job at once. Errors a user can fix (not a shot, no pipeline, no worker can ever fit,
        a post node with nothing to run on) are raised here, not later.

        ``overrides`` (a Shot only): this job's prompt, seed or pipeline inputs instead of the
        node's, the graph left as it is; an input the pipeline does not declare, or a value it
        does not accept, raises ``InvalidInput`` here. ``sweep``: the sweep cell the job is,
        in the job log's ``info`` and the take's provenance."""
        request = JobRequest(quality=quality, overrides=overrides, sweep=sweep)
        return self.generate_many(project, node, [request], after=after)[0]

    def generate_many(
        self,
        project: Project,
        node: str | Node,
        requests: Sequence[JobRequest],
        *,
        after: Job | None = None,
    ) -> list[Job]:
        """Submit one job of ``node`` per request (a sweep's cells), as :meth:`generate` does
        one, paying once for what they share: the graph, the dispatch decision of each
        quality, one job-log write and one fsync. Every request is checked before anything
        is logged or submitted: one refused request refuses them all."""
        node_id = node if isinstance(node, str) else node.id
        settle(project)  # a project written to never keeps a dead job's take uncommitted
        snapshot = project.graph.to_json()  # unsaved edits included: the kernel's graph rules
        shot = resolve_node(snapshot, node_id)
        post = shot.post is not None
        if post and after is None:
            check_runnable(project, snapshot, node_id)
        decisions: dict[Quality | None, Dispatch] = {}
        for request in requests:
            if request.quality not in decisions:
                decisions[request.quality] = self.decide(project, node_id, quality=request.quality)
            if request.overrides is not None:
                pipeline = decisions[request.quality].pipeline
                _check_overrides(node_id, post, pipeline, request.overrides)
        topic = project_topic(str(project.uuid))
        self._subscribe(topic)
        node_data = _node_data(snapshot, node_id)
        jobs: list[Job] = []
        lines: list[dict[str, Any]] = []
        noted: set[str] = set()
        for request in requests:
            decision = decisions[request.quality]
            seed = _job_seed(shot.seed, request.overrides, post)
            job = Job(job_id=uuid.uuid4().hex[:16], node_id=node_id, project=project,
                      decision=decision, seed=seed)  # fmt: skip
            job.after = [after] if after is not None else []
            job.node_data = node_data
            self._remember(job)
            jobs.append(job)
            if decision.notification and decision.notification not in noted:
                noted.add(decision.notification)  # said once, not once per cell
                notice = {"level": "warning", "message": decision.notification, "node_id": node_id}
                lines.append(
                    job_log.record(job_id=job.id, event="server:notification", payload=notice)
                )
            # In the log before the task can exist (its worker's records come after it), made
            # durable while the submissions travel: both before this returns.
            queued = {"node_id": node_id, "state": "queued", "task_id": job.id}
            info = self._job_info(job, shot, request)
            lines.append(job_log.record(job_id=job.id, event="server:node_state_updated",
                                        payload=queued, info=info))  # fmt: skip
        job_log.append_many(project.path, lines, synced=False)
        for line in lines:
            self.relay(topic, line)
        submitted = 0
        try:
            for job, request in zip(jobs, requests, strict=True):
                self._submit(job, project, snapshot, topic, post, after,
                             overrides=request.overrides, sweep=request.sweep)  # fmt: skip
                submitted += 1
        except BaseException as exc:
            # All or nothing: the jobs already on the cluster are canceled, and those logged
            # as queued that never reached it end here, saying why (not left for settling).
            for job in jobs[:submitted]:
                with contextlib.suppress(Exception):
                    job.cancel()
            failed = [
                job_log.record(job_id=job.id, event="server:task_failed", payload={
                    "task_id": job.id, "node_id": node_id, "code": ErrorCode.ENGINE_ERROR,
                    "error": f"not submitted: {crash_message(exc)}"})
                for job in jobs[submitted:]
            ]  # fmt: skip
            with contextlib.suppress(OSError):
                job_log.append_many(project.path, failed, synced=False)
            raise
        finally:
            job_log.sync(project.path)
        return jobs

    def _job_info(self, job: Job, shot: Any, request: JobRequest) -> dict[str, Any]:
        """A job's ``info`` in the job log: what ran where, for listings and settling."""
        info: dict[str, Any] = {
            "pipeline": job.decision.pipeline,
            "quality": job.decision.quality,
            "scene": shot.scene,
            "shot": shot.shot,
            "seed": job.seed,
            "scheduler": self.address,
            "host": socket.gethostname(),
        }
        if job.decision.vram_gb > 0:  # what its worker must have (the queue's give-way)
            info["resources"] = {"VRAM": job.decision.vram_gb}
        if self.owns_scheduler:
            # The scheduler lives in this process: once it is gone, so are its jobs.
            info["scheduler_pid"] = os.getpid()
        if request.sweep is not None:
            info["sweep"] = {"id": request.sweep.id, "cell": request.sweep.cell}
        return info

    def _submit(
        self,
        job: Job,
        project: Project,
        snapshot: dict[str, Any],
        topic: str,
        post: bool,
        after: Job | None,
        *,
        overrides: Overrides | None,
        sweep: SweepMark | None,
    ) -> None:
        decision, node_id, seed = job.decision, job.node_id, job.seed
        task: Callable[..., dict[str, Any]] = execute_shot_node
        own: dict[str, Any] = {"pipeline_id": decision.pipeline, "seed": seed}
        if overrides is not None:
            own["overrides"] = overrides
        if sweep is not None:
            own["sweep"] = sweep
        if post:  # Dask starts it once ``after`` is done, with its outcome
            task, own = execute_post_node, {"after": after.future if after else None}
        job.future = self.client.submit(
            task,
            project_path=str(project.path),
            job_id=job.id,
            node_id=node_id,
            graph=snapshot,
            quality=decision.quality,
            topic=topic,
            **own,
            key=task_key(job.id),
            pure=False,
            retries=self.retries,
            # Only GPU work asks for VRAM: a CPU-only worker declares none and must still run
            # the draft pipelines.
            resources={"VRAM": decision.vram_gb} if decision.vram_gb > 0 else None,
        )
        # The job belongs to the cluster, not to this kernel: a kernel restart must not drop
        # it (the next kernel finds it through the job log and the scheduler).
        from distributed import fire_and_forget

        fire_and_forget(job.future)  # type: ignore[no-untyped-call]
        job.future.add_done_callback(  # type: ignore[no-untyped-call]
            lambda f: self._on_done(topic, job, f)
        )

    def generate_pending(
        self, project: Project, steps: Iterable[str | PostStep], *, quality: Quality | None = None
    ) -> list[Job]:
        """Run the post steps that are stale (``Sequence.pending``, or post node ids) and the
        stale post nodes before them, each once, in dependency order: a step that runs on an
        earlier step's output is submitted with that job as ``after``, so Dask starts it once
        that output is committed (and fails it, saying so, if that step failed). Returns the
        jobs at once, earliest first; wait for the last of a chain to have all. A step with
        a job of this engine still running with its current fields is not submitted again:
        that job is returned.
        Nothing is submitted when any step cannot run (it raises, naming the node)."""
        graph = project.graph.to_json()
        wanted = [step if isinstance(step, str) else step.node_id for step in steps]
        order = stale_chain(project, graph, wanted)
        upstream = {node_id: resolve_post(graph, node_id).upstream_id for node_id in order}
        for node_id in order:
            if upstream[node_id] not in order:
                check_runnable(project, graph, node_id)
        jobs: dict[str, Job] = {}
        for node_id in order:
            # A step already generating here with the same settings (its Generate clicked,
            # another render) is waited for, not run a second time for the same output.
            running = self.running_job(project, node_id)
            if running is None or running.node_data != _node_data(graph, node_id):
                running = self.generate(
                    project, node_id, quality=quality, after=jobs.get(upstream[node_id])
                )
            jobs[node_id] = running
        return list(jobs.values())

    def _on_done(self, topic: str, job: Job, future: Future[dict[str, Any]]) -> None:
        # An exception (after retries) or a cancel of the future means the worker published
        # no outcome: report it, from a thread (this runs on the client's event loop). A
        # client that is closing cancels its futures, but the jobs (fire_and_forget) go on.
        if self.client.status in ("closing", "closed"):
            return
        if future.status in ("error", "cancelled"):
            threading.Thread(
                target=self._report_crash, args=(topic, job, future), daemon=True
            ).start()

    def _report_crash(self, topic: str, job: Job, future: Future[dict[str, Any]]) -> None:
        try:
            error = crash_message(future.exception(timeout=EVENT_GRACE_S))  # type: ignore[no-untyped-call]
        except Exception as exc:  # the future itself is gone (cancelled, client closed)
            error = crash_message(exc)
        if (before := crashed_before(job)) is not None:  # Dask passed its crash on to this one
            error = (
                f"the job of {before.node_id!r} it waited for ended without an outcome "
                f"({error}), so this one did not run"
            )
        self._local(topic, job.project, job_log.record(
            job_id=job.id, event="server:task_failed", payload={
                "task_id": job.id, "node_id": job.node_id, "error": error,
                "code": ErrorCode.ENGINE_ERROR}))  # fmt: skip

    def submit(
        self,
        project: Project,
        job: Job,
        task: Callable[..., dict[str, Any]],
        *,
        key: str,
        info: dict[str, Any],
        resources: dict[str, float] | None,
        waiting: str | None = None,
        **arguments: Any,
    ) -> Job:
        """Submit a job of another task than a shot's (a render, :mod:`studio.engine.rendering`)
        the way :meth:`generate` submits one: "queued" in the durable log first (with
        ``info``, who schedules it, and what it is ``waiting`` for as the node's step: written
        before the task exists, so no record of its worker comes before it), then
        ``task(**arguments, project_path, job_id, node_id, topic)`` on the cluster, belonging
        to the cluster (not this kernel), its crash reported as ENGINE_ERROR."""
        topic = project_topic(str(project.uuid))
        self._subscribe(topic)
        self._remember(job)
        info = {**info, "scheduler": self.address, "host": socket.gethostname()}
        if resources:
            info["resources"] = dict(resources)
        if self.owns_scheduler:
            info["scheduler_pid"] = os.getpid()
        queued = {"node_id": job.node_id, "state": "queued", "task_id": job.id}
        if waiting:
            queued["step"] = waiting
        line = job_log.record(
            job_id=job.id, event="server:node_state_updated", payload=queued, info=info
        )
        self._local(topic, project, line)
        job.future = self.client.submit(
            task,
            project_path=str(project.path),
            job_id=job.id,
            node_id=job.node_id,
            topic=topic,
            **arguments,
            key=key,
            pure=False,
            retries=self.retries,
            resources=resources,
        )
        from distributed import fire_and_forget

        fire_and_forget(job.future)  # type: ignore[no-untyped-call]
        job.future.add_done_callback(  # type: ignore[no-untyped-call]
            lambda f: self._on_done(topic, job, f)
        )
        return job


def _check_overrides(node_id: str, post: bool, pipeline: str, overrides: Overrides) -> None:
    """Refuse, before anything is queued, overrides the job's pipeline cannot take."""
    if post:
        raise InvalidInput(f"{node_id} is a post node: only a Shot's job takes overrides")
    if overrides.seed is not None and (
        isinstance(overrides.seed, bool)
        or not isinstance(overrides.seed, int)
        or not 0 <= overrides.seed < 2**31
    ):
        raise InvalidInput(f"seed must be a whole number from 0 to 2**31-1, not {overrides.seed!r}")
    if overrides.prompt is not None and not isinstance(overrides.prompt, str):
        raise InvalidInput(f"prompt must be text, not {overrides.prompt!r}")
    if overrides.inputs and (
        problems := override_problems(get_pipeline(pipeline).manifest, overrides.inputs)
    ):
        raise InvalidInput(f"{node_id}: " + "; ".join(problems))


def _job_seed(node_seed: int | None, overrides: Overrides | None, post: bool) -> int:
    """The seed a job runs with: its override's, else its node's, else a fresh random one; a
    post step has none (it re-makes the same output)."""
    if post:
        return 0
    if overrides is not None and overrides.seed is not None:
        return overrides.seed
    return node_seed if node_seed is not None else secrets.randbelow(2**31)


def _node_data(graph: dict[str, Any], node_id: str) -> dict[str, Any]:
    for node in graph.get("nodes", []):
        if node.get("id") == node_id:
            return dict(node.get("data") or {})
    return {}


def crashed_before(job: Job) -> Job | None:
    """The job among those ``job`` waited for (:attr:`Job.after`) whose task ended without an
    outcome (raised, its workers died), if any: then ``job``'s own crash is that one's."""
    for earlier in job.after:
        if earlier.future is None:
            continue
        with contextlib.suppress(Exception):  # gone with the client: it cannot tell
            if earlier.future.exception(timeout=EVENT_GRACE_S) is not None:  # type: ignore[no-untyped-call]
                return earlier
    return None


def crash_message(exc: BaseException | None) -> str:
    """A sentence for a job that ended without an outcome of its own (its worker died on
    every attempt, the cluster went away, an unexpected exception after the retries)."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return (
            "the worker running this job died on every attempt (killed, or out of memory); "
            "check the workers' memory in the Dask dashboard, then generate again"
        )
    if isinstance(exc, CancelledError | asyncio.CancelledError):
        return "the job was dropped by the cluster (the client or scheduler went away)"
    if isinstance(exc, StudioError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if exc is not None else "the job ended without a result"


def _installed_needs(
    quality_map: QualityMap, installed: dict[str, Pipeline], task: str
) -> dict[str, dict[Quality, float]]:
    """GPU memory per quality that the installed pipelines of the task's map cells declare."""
    needs: dict[str, dict[Quality, float]] = {}
    for cell in quality_map.get(task, {}).values():
        with contextlib.suppress(PipelineNotFound):
            manifest = find_pipeline(cell.pipeline, installed=installed).manifest
            needs[cell.pipeline] = {q: manifest.resources_for(q).vram_gb for q in QUALITIES}
    return needs


# --- the Python API (Project.generate / Project.jobs delegate here) --------------------------

_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine_started() -> bool:
    """Has this kernel's engine been connected yet (nothing is started by asking)?"""
    return _default is not None


def default_engine(project: Project | None = None) -> Engine:
    """The kernel's engine, connected on first use: to ``STUDIO_SCHEDULER``, else the
    ``scheduler`` of the project's workspace.json, else a new local cluster."""
    from studio.workspace import workspace_of

    global _default
    with _default_lock:
        if _default is None:
            _default = Engine.for_workspace(workspace_of(project.path) if project else None)
        return _default


def generate(project: Project, node: str | Node, *, quality: Quality | None = None) -> Job:
    """``project.generate(...)``: one take of a Shot node, on the default engine."""
    return default_engine(project).generate(project, node, quality=quality)


def generate_pending(
    project: Project, steps: Iterable[str | PostStep], *, quality: Quality | None = None
) -> list[Job]:
    """The stale post steps of ``steps`` (and before them) on the default engine, in
    dependency order (see :meth:`Engine.generate_pending`): what a render runs first.

    >>> jobs = generate_pending(project, project.sequence().pending)
    >>> for job in jobs: job.result(timeout=600)   # then project.sequence() cuts their outputs
    """
    return default_engine(project).generate_pending(project, steps, quality=quality)


def project_jobs(project: Project) -> list[job_log.JobState]:
    """``project.jobs()``: every job of the project with its latest state (durable log),
    lost ones settled first (so a dead job never shows as running, in scripts too)."""
    settle(project)
    return job_log.jobs(project.path)
