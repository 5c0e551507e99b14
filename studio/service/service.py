"""The studio service: every client event, from every front end, handled in one place.

A front end is a transport. The canvas widget's comm (in a kernel) and the server's WebSocket
each hand every message they receive to :meth:`StudioService.handle` with a ``reply``
function, and pass on to their clients what the service publishes. The service turns client
events into graph edits, generations, cancels, take choices and syncs, and the engine's job
events into server events (:mod:`studio.events`, the one vocabulary). A new client event is
one handler here, tested without a browser or a server (``tests/service``).

>>> service = StudioService(project, editor=LiveGraph(project.graph, save=...),
...                         link=inline_link, publish=send_to_views)
>>> service.handle({"event": "client:sync_request", "payload": {}}, reply=send_to_caller)
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from studio.engine import jobs as job_log
from studio.engine import settle
from studio.errors import InvalidInput, SequenceError, StudioError
from studio.events import (
    CLIENT_EVENTS,
    CancelGeneration,
    EventError,
    NotificationLevel,
    RenderFinalSequence,
    StartGeneration,
    UpdateNodeData,
    UpdateProjectSettings,
    apply_event,
    make_event,
    parse_event,
)
from studio.graph.builtin_types import POST_TYPES
from studio.graph.edits import apply_structural_edit, is_structural_edit, update_node_data
from studio.graph.graph import GraphChange, GraphError
from studio.post import check_runnable
from studio.project.active_take import ACTIVE_FILE
from studio.service.editors import GraphEditor
from studio.service.views import (
    MediaLink,
    NodeStatus,
    cached_thumbnail,
    durable_status,
    export_links,
    restored,
    settings_view,
    with_export_links,
    with_shot_views,
)

if TYPE_CHECKING:
    from studio.engine import Engine, Job
    from studio.engine.rendering import RenderJob
    from studio.graph.graph import Graph
    from studio.project.project import Project
    from studio.project.takes import Take

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], None]
NodeHandler = Callable[[str], None]
NO_ENGINE: Final = (
    "No engine configured: nothing can generate yet. Connect one with "
    "canvas.on_generate(handler), or use the studio engine (project.generate)."
)
NO_ASSEMBLER: Final = (
    "No assembler configured: this canvas has no engine to render the final video on "
    "(project.canvas() has one; canvas.on_render(handler) connects your own)."
)
QUEUE_SETTLE_S: Final = 30.0
"""How often a polled queue view settles lost jobs first."""
STARTING_ENGINE: Final = "Starting the generation engine (first use)…"
NO_RUNNING_JOB: Final = "no running generation on this node"
RENDERING_ALREADY: Final = (
    "This Assembler is rendering already: wait for that render, or cancel it and render again."
)


class NoEngine(StudioError):
    """A generation or render asked of a front end that has nothing to run it."""

    code: Final = "NO_ENGINE"


class EngineAccess(Protocol):
    """The engine a front end generates on, connected (or a cluster started) on first use."""

    @property
    def started(self) -> bool: ...

    def get(self) -> Engine: ...


class KernelEngine:
    """The kernel's default engine: ``STUDIO_SCHEDULER``, the workspace's scheduler, or a
    local cluster, started on the first generation."""

    def __init__(self, project: Project) -> None:
        self.project = project

    @property
    def started(self) -> bool:
        from studio.engine.engine import default_engine_started

        return default_engine_started()

    def get(self) -> Engine:
        from studio.engine import default_engine

        return default_engine(self.project)


class GivenEngine:
    """An engine the caller connected itself (``canvas.use_engine(engine)``)."""

    started = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self) -> Engine:
        return self.engine


def notification(
    message: str, *, level: NotificationLevel = "error", node_id: str | None = None
) -> dict[str, Any]:
    extra = {"node_id": node_id} if node_id else {}
    return make_event("server:notification", level=level, message=message, **extra)


class StudioService:
    """One project as one front end serves it (see the module doc). ``publish`` sends a
    server event to every client of the project; ``engines`` is None where nothing can
    generate (a bare canvas); ``on_status`` hears every change of the live node status,
    ``on_settings`` every change of the project's settings. ``link`` makes a thumbnail's
    (or a video take's) URL; ``file_link`` a rendered film's and its EDL's, where the front
    end can serve them (the media route; None: not linked)."""

    def __init__(
        self,
        project: Project | None,
        *,
        editor: GraphEditor,
        link: MediaLink,
        publish: Send,
        engines: EngineAccess | None = None,
        on_status: Callable[[NodeStatus], None] | None = None,
        file_link: MediaLink | None = None,
        on_settings: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.project = project
        self.editor = editor
        self.link = link
        self.file_link = file_link
        self._publish = publish
        self.engines = engines
        self._on_status = on_status
        self._on_settings = on_settings
        # Re-entrant: a status callback (a trait observer) may look at the service again.
        self._lock = threading.RLock()
        # One render decision at a time: two clicks (two tabs, a server's threads) between
        # "is one running?" and its queued record would start two renders.
        self._render_lock = threading.Lock()
        self._unlisten: Callable[[], None] | None = None
        self._queue_settled_at: float | None = None  # (monotonic) see queue_view
        self._followed: Engine | None = None
        self._unsubscribe: Callable[[], None] | None = None
        # A front end's own handlers, replacing the studio's (a notebook's custom engine).
        self.generation_handler: NodeHandler | None = None
        self.cancel_handler: NodeHandler | None = None
        self.render_handler: NodeHandler | None = None
        self.status: NodeStatus = {}
        """The live node status (a live editor's; a server reads it from the job log)."""
        if editor.live:
            with editor.reading() as graph:
                if project is not None:
                    self.status = with_shot_views({}, project, graph, link=link)
                    # Python-side edits (a notebook changing a shot's numbers) re-read folders.
                    self._unsubscribe = graph.subscribe(self._on_graph_change)

    # --- client events in ---------------------------------------------------------------------

    def handle(self, message: Any, *, reply: Send) -> None:
        """One client message: act on it. Every error is answered (``reply``), never raised:
        a refused edit (or a message that is not a client event) with a notification and the
        true graph, which undoes the client's optimistic change; a refused generation or
        render on its node; an unexpected failure is logged and answered the same way."""
        try:
            name, payload = parse_event(message)
            if name not in CLIENT_EVENTS:
                raise EventError(
                    f"{name} is a server event; clients send {', '.join(CLIENT_EVENTS)}"
                )
        except StudioError as exc:
            reply(notification(exc.message))
            reply(self.full_sync())
            return
        try:
            self._dispatch(name, payload, reply)
        except StudioError as exc:
            self._refused(name, payload, exc, reply)
        except Exception as exc:  # a bug: say so on the client, keep the session going
            log.exception("the studio failed on %s", name)
            reply(notification(f"{name} failed in the studio: {exc!r}"))
            reply(self.full_sync())

    def _refused(self, name: str, payload: Any, exc: StudioError, reply: Send) -> None:
        node_id = getattr(payload, "node_id", None)
        on_a_node = isinstance(payload, StartGeneration | RenderFinalSequence)
        if on_a_node and not (isinstance(exc, GraphError) and exc.code == "unknown_node"):
            code = exc.code if isinstance(exc, NoEngine) else type(exc).__name__
            failed = make_event("server:task_failed", node_id=node_id, error=str(exc), code=code)
            # The kernel's node shows it (live status); a server tells the one who clicked.
            (self.publish if self.editor.live else reply)(failed)
            culprit = exc.node_id if isinstance(exc, SequenceError) else None
            if culprit and culprit != node_id:  # the node to fix, shown on that node too
                (self.publish if self.editor.live else reply)(
                    notification(str(exc), node_id=culprit)
                )
            return  # nothing optimistic to undo: the graph did not change
        reply(notification(exc.message, node_id=node_id))
        if name != "client:sync_request":
            reply(self.full_sync())

    def _dispatch(self, name: str, payload: Any, reply: Send) -> None:
        if isinstance(payload, UpdateNodeData):
            self.update_node(payload.node_id, data=payload.data)
        elif is_structural_edit(payload):
            with self.editor.editing() as graph:
                apply_structural_edit(graph, payload, project=self.project)
            self._edited()
        elif isinstance(payload, StartGeneration):
            self.generate(payload.node_id)
        elif isinstance(payload, CancelGeneration):
            if not self.cancel(payload.node_id):
                reply(notification(NO_RUNNING_JOB, level="warning", node_id=payload.node_id))
        elif isinstance(payload, RenderFinalSequence):
            with self._render_lock:
                if self.rendering(payload.node_id):  # a second click, or another client's
                    reply(notification(RENDERING_ALREADY, level="warning",
                                       node_id=payload.node_id))  # fmt: skip
                else:
                    self.render(payload.node_id)
        elif isinstance(payload, UpdateProjectSettings):
            self.update_settings(**payload.model_dump(exclude_none=True))
        elif name == "client:sync_request":
            reply(self.full_sync())
        elif name == "client:save":
            self.editor.save()
            if self.project is not None:  # an explicit Save is a step of the project's history
                self._commit([self.project.canvas_path], "Save the canvas")
            if not self.editor.live:
                reply(self.full_sync())  # saved already: say what is on disk
        elif name == "client:undo":
            self.editor.undo()
        elif name == "client:redo":
            self.editor.redo()
        else:  # a client event added to the vocabulary without a handler here
            raise StudioError(f"{name} is not handled by the studio yet")

    # --- edits ----------------------------------------------------------------------------------

    def update_node(self, node_id: str, *, data: dict[str, Any]) -> None:
        """Set a node's fields; an ``active_take`` also becomes the shot's active take in its
        folder (what every client's sync and ``project.active_take`` then report)."""
        with self.editor.editing() as graph:
            chosen = self._set_fields(graph, node_id, data)
        if chosen is not None and self.editor.live:
            self.refresh([node_id])  # the graph's own notice came before the folder changed
        if chosen is not None:  # the choice is a step of the project's history
            self._commit([chosen.path.parent / ACTIVE_FILE], _choice_message(chosen, data))
        self._edited()

    def _set_fields(self, graph: Graph, node_id: str, data: dict[str, Any]) -> Take | None:
        try:
            return update_node_data(graph, node_id, data, project=self.project)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"node {node_id!r}: invalid data ({exc})") from None

    def _commit(self, paths: list[Path], message: str) -> None:
        """Commit what changed of ``paths`` to the project's history (a canvas save, a take
        choice); a failure is told, not raised: the change itself is saved."""
        if self.project is None:
            return
        try:
            self.project.commit_changes(paths, message=message)
        except StudioError as exc:
            self.publish(notification(f"Saved, but not committed to git: {exc.message}",
                                      level="warning"))  # fmt: skip

    def _edited(self) -> None:
        """A saved edit reaches every client as the new graph (a live graph shows its own)."""
        if not self.editor.live:
            self.publish(self.full_sync())

    def _on_graph_change(self, change: GraphChange) -> None:
        if change.kind in ("node_added", "node_updated", "replaced"):
            self.refresh(change.node_ids or None)  # a reload naming nothing: look at all
        elif change.kind in ("edge_added", "edge_removed"):
            # A post node's source is what is connected to it: look at them all again.
            with self.editor.reading() as graph:
                posts = [node.id for node in graph.nodes if node.type in POST_TYPES]
            if posts:
                self.refresh(posts)

    def update_settings(
        self, *, expected_version: int | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Change the project's settings (``Project.update_settings``, under the manifest's
        lock: with ``expected_version``, the version the editor loaded); every client is
        told, and ``on_settings`` hears the new settings. Returns them."""
        if self.project is None:
            raise StudioError("this canvas shows no project: it has no settings to change")
        self.project.update_settings(**changes, expected_version=expected_version)
        view = settings_view(self.project)
        said = ", ".join(f"{key.replace('_', ' ')} {view[key]}" for key in changes)
        self.publish(notification(f"Project settings saved: {said}.", level="info"))
        if self._on_settings is not None:
            self._on_settings(view)
        return view

    # --- generation -----------------------------------------------------------------------------

    def generate(self, node_id: str, *, node_data: dict[str, Any] | None = None) -> Job | None:
        """Submit one take of a Shot node, or one output of a post node (run on its upstream
        output), its fields set first from ``node_data``; returns
        the Job at once (None when a front end's own handler took it). Errors a user can fix
        raise (the caller shows them on the node)."""
        if node_data:
            with self.editor.editing() as graph:
                self._set_fields(graph, node_id, node_data)
            self._edited()
        else:
            with self.editor.reading() as graph:
                graph.node(node_id)  # an unknown node fails here, before any engine starts
        if self.generation_handler is not None:
            self.generation_handler(node_id)
            return None
        self._check_post(node_id)  # "connect a shot first" needs no engine started
        if self.engines is None or self.project is None:
            raise NoEngine(NO_ENGINE)
        if not self.engines.started:
            self.publish(notification(STARTING_ENGINE, level="info", node_id=node_id))
        # Starting the engine (a local cluster) takes seconds: not while holding the graph.
        engine = self.engines.get()
        self.follow(engine)
        with self.editor.reading():  # a server's file is not re-saved while it is read
            return engine.generate(self.project, node_id)

    def _check_post(self, node_id: str) -> None:
        """A post node with nothing to run on is refused here, saying what to do first."""
        if self.project is None:
            return
        with self.editor.reading() as graph:
            if graph.node(node_id).type in POST_TYPES:
                check_runnable(self.project, graph.to_json(), node_id)

    def cancel(self, node_id: str) -> bool:
        """Ask every unfinished job of the node to stop — queued ones too, so a Cancel after
        several Generate clicks stops them all — whichever kernel or server submitted them
        (the job log knows them all; their workers watch the cancel markers). Jobs no cluster
        holds are settled first: they are not running. False when none is left."""
        if self.cancel_handler is not None:
            self.cancel_handler(node_id)
            return True
        if self.project is None:
            return False
        running = self._unfinished_jobs(self.project, node_id)
        for state in running:
            job_log.request_cancel(self.project.path, state.job_id)
        return bool(running)

    def rendering(self, node_id: str) -> bool:
        """Whether a render of the Assembler ``node_id`` is queued or running, whoever asked
        for it (the job log knows; jobs no cluster holds are settled first)."""
        if self.project is None or self.render_handler is not None:
            return False
        return bool(self._unfinished_jobs(self.project, node_id))

    @staticmethod
    def _unfinished_jobs(project: Project, node_id: str) -> list[job_log.JobState]:
        """The node's queued or running jobs, from the job log (whoever submitted them), once
        the jobs no cluster holds are settled: those are not running."""
        settle(project)
        return [
            state
            for state in job_log.jobs(project.path)
            if state.node_id == node_id and not state.finished
        ]

    # --- the queue (issue 14 item 5) -----------------------------------------------------

    def queue_view(self) -> dict[str, Any]:
        """The project's queue for a front end: paused or not, and its jobs in order (running,
        queued as they will start, recently finished), each with its age."""
        from datetime import UTC, datetime

        from studio.engine.pause import read_state
        from studio.engine.queue import queue_entries
        from studio.engine.queue_rows import age, counts

        project = self._queue_project()
        clock = time.monotonic()
        if self._queue_settled_at is None or clock - self._queue_settled_at > QUEUE_SETTLE_S:
            # A panel polls: lost jobs (a dead kernel's local cluster) are settled now and then,
            # not at every look (settling asks the scheduler when jobs are unfinished).
            self._queue_settled_at = clock
            settle(project)
        rows, now = queue_entries(project.path), datetime.now(UTC)
        state = read_state(project.path)
        return {
            "paused": state.paused,
            "changed_at": state.changed_at,
            "counts": counts(rows),
            "jobs": [{**row.as_dict(), "age": age(row.submitted_at, now=now)} for row in rows],
        }

    def queue_pause(self, *, paused: bool) -> dict[str, Any]:
        """Pause the project's queue (running jobs finish, queued ones wait, across restarts)
        or resume it; returns the queue's view with a ``message``."""
        from studio.engine.pause import set_paused

        set_paused(self._queue_project().path, paused=paused)
        said = (
            "Queue paused: running jobs finish, queued ones wait until you resume."
            if paused
            else "Queue resumed: queued jobs start as workers free up."
        )
        return {**self.queue_view(), "message": said}

    def queue_cancel(
        self, *, job_id: str | None = None, sweep_id: str | None = None
    ) -> dict[str, Any]:
        """Cancel one job (``job_id``) or every unfinished job of a sweep (``sweep_id``);
        refusals (an unknown or finished job, an unknown sweep) raise ``QueueRefused``."""
        from studio.engine.queue import cancel_job, cancel_sweep_jobs

        root = self._queue_project().path
        if job_id is not None:
            said = cancel_job(root, job_id)
        elif sweep_id is not None:
            ids = cancel_sweep_jobs(root, sweep_id)
            said = (
                f"Sweep {sweep_id}: {len(ids)} unfinished job(s) canceled."
                if ids
                else f"Sweep {sweep_id} has no unfinished job: nothing to cancel."
            )
        else:
            raise InvalidInput("say which job (job_id) or sweep (sweep_id) to cancel")
        return {**self.queue_view(), "message": said}

    def queue_move_to_front(self, job_id: str) -> dict[str, Any]:
        """Make a queued job start next (on the engine's cluster: Dask's priorities)."""
        from studio.engine.queue import movable_job, move_job_to_front

        project = self._queue_project()
        movable_job(project.path, job_id)  # refused before any engine is started for it
        if self.engines is None:
            raise NoEngine(NO_ENGINE)
        said = move_job_to_front(project.path, job_id, client=self.engines.get().client)
        return {**self.queue_view(), "message": said}

    def _queue_project(self) -> Project:
        if self.project is None:
            raise NoEngine("this front end has no project: it has no queue")
        return self.project

    def render(self, node_id: str) -> RenderJob | None:
        """Render the final video of an Assembler node on the studio engine: its sequence
        exported as a new EDL version, then ``render_final_video`` on a CPU worker; returns
        the job at once (None when a front end's own handler took it). Refusals (a shot with
        no take, a post node with nothing upstream, no CPU worker) raise, naming the node to
        fix; stale post nodes before a clip are generated first, then the render runs."""
        with self.editor.reading() as graph:
            graph.node(node_id)
        if self.render_handler is not None:
            self.render_handler(node_id)
            return None
        if self.engines is None or self.project is None:
            raise NoEngine(NO_ASSEMBLER)
        if not self.engines.started:
            self.publish(notification(STARTING_ENGINE, level="info", node_id=node_id))
        engine = self.engines.get()
        self.follow(engine)
        from studio.engine.rendering import render

        with self.editor.reading():  # a server's file is not re-saved while it is read
            return render(engine, self.project, assembler_id=node_id)

    # --- engine events out ----------------------------------------------------------------------

    def follow(self, engine: Engine) -> Callable[[], None]:
        """Relay every event of the project's jobs (from any kernel or server on the same
        cluster) to the clients, from one engine at a time; then settle the jobs no cluster
        holds, so no client sees a dead job running. Returns the unfollow function."""
        if self.project is None:
            raise NoEngine(NO_ENGINE)
        with self._lock:
            if self._followed is engine:
                return self.unfollow
        self.unfollow()  # another engine's events would come twice, or never
        with self._lock:
            self._unlisten = engine.listen(self.project, self.publish)  # raises: not following
            self._followed = engine
        try:
            settle(self.project)
        except Exception:  # the subscription stands; a lost job waits for the next look
            log.warning("settling the jobs of %s failed", self.project.path, exc_info=True)
        if self.editor.live:
            self.restore()
        return self.unfollow

    def unfollow(self) -> None:
        with self._lock:
            unlisten, self._unlisten, self._followed = self._unlisten, None, None
        if unlisten is not None:
            with contextlib.suppress(ValueError):  # the engine forgot it already
                unlisten()

    def resume(self) -> None:
        """A kernel's canvas opening: settle lost jobs, show every node's status from the
        job log, and follow still-running jobs live when that is cheap (a configured
        scheduler); a local cluster is never started just to look."""
        project, engines = self.project, self.engines
        if project is None or engines is None:
            return
        settle(project)
        self.restore()
        running = any(not state.finished for state in job_log.jobs(project.path))
        if not running or not (engines.started or _scheduler_configured(project)):
            return
        try:
            self.follow(engines.get())
        except Exception as exc:  # a notebook cell showing a canvas must not fail over this
            self.publish(notification(f"Running jobs cannot be followed live: {exc}",
                                      level="warning"))  # fmt: skip

    def publish(self, message: dict[str, Any]) -> None:
        """Send a server event to every client; a live editor's node status follows it (a
        success also re-reads the node's folder: its new take)."""
        message = self._for_clients(message)
        name, node_id = message["event"], message["payload"].get("node_id")
        if self.editor.live and node_id and name != "server:notification":
            with self._lock:
                status = apply_event(self.status, message)
                if name == "server:task_success" and self.project is not None:
                    with self.editor.reading() as graph:
                        status = with_shot_views(status, self.project, graph, link=self.link,
                                                 node_ids=[node_id])  # fmt: skip
                # One assignment: a reader never sees the state without the take it came with;
                # shown under the lock, so two threads' updates reach the view in order.
                self.status = status
                self._show(status)
        self._publish(message)

    def _for_clients(self, message: dict[str, Any]) -> dict[str, Any]:
        """The event as this front end's clients load it: a take's thumbnail (a file in the
        project's thumbnail cache, made once by whoever wrote the take) becomes this front
        end's link to it; a render's film and EDL files get ``video_url``, ``edl_url``, ...
        where this front end serves them (:func:`export_links`). Nothing else is linked."""
        if message["event"] != "server:task_success" or self.project is None:
            return message
        result = message["payload"].get("result")
        if not isinstance(result, dict):
            return message
        links = export_links(self.project.path, result, link=self.file_link)
        file = cached_thumbnail(self.project.path, result.get("thumbnail"))
        if file is not None and (url := self.link(file)) is not None:
            links["thumbnail_url"] = url
        if not links:
            return message
        result = {**result, **links}
        return {**message, "payload": {**message["payload"], "result": result}}

    # --- status and sync ------------------------------------------------------------------------

    def refresh(self, node_ids: tuple[str, ...] | list[str] | None = None) -> None:
        """Re-read the render folders of the Shot nodes (all, or ``node_ids``)."""
        if self.project is None or not self.editor.live:
            return
        with self._lock, self.editor.reading() as graph:
            self.status = with_shot_views(self.status, self.project, graph, link=self.link,
                                          node_ids=node_ids)  # fmt: skip
            self._show(self.status)

    def restore(self) -> None:
        """The live status with the job log's word on every job (the folder keeps the takes)."""
        if self.project is None:
            return
        durable = durable_status(self.project)
        with self._lock:
            self.status = restored(self.status, durable)
            self._show(self.status)

    def _show(self, status: NodeStatus) -> None:
        if self._on_status is not None:
            self._on_status(status)

    def sync_payload(self) -> dict[str, Any]:
        """``server:full_sync``'s payload: the graph and every node's status. A server reads
        the status from the durable job log (settling lost jobs first, cheap when none is
        unfinished) plus the render folders; a live editor has followed it."""
        with self.editor.reading() as graph:
            if self.editor.live or self.project is None:
                return {**self.editor.sync_fields(graph), "node_status": self.status}
            settle(self.project)
            status = with_shot_views(
                durable_status(self.project), self.project, graph, link=self.link
            )
            status = with_export_links(status, self.project.path, link=self.file_link)
            return {**self.editor.sync_fields(graph), "node_status": status}

    def full_sync(self) -> dict[str, Any]:
        return make_event("server:full_sync", **self.sync_payload())

    def close(self) -> None:
        self.unfollow()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def _choice_message(take: Take, data: dict[str, Any]) -> str:
    """Pure: the commit message of a take chosen (or pinned, unpinned) from a client."""
    pinned = data.get("take_pinned")
    verb = "Choose" if "active_take" in data or pinned is None else "Pin" if pinned else "Unpin"
    return f"{verb} {take.name} as the active take of scene {take.scene}, shot {take.shot}"


def _scheduler_configured(project: Project) -> bool:
    """Is a shared scheduler configured (so connecting costs no cluster start)?"""
    from studio.engine.settings import project_setting

    return bool(project_setting(project, "scheduler"))


def project_link(*, root: Path, url_of: Callable[[str], str]) -> MediaLink:
    """A link through a route that serves the project's files by their path relative to
    ``root`` (a file that is not inside the project gets no link)."""

    def link(path: Path) -> str | None:
        try:
            return url_of(path.relative_to(root).as_posix())
        except ValueError:
            return None

    return link
