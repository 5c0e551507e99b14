"""The studio's per-server state: which workspace, the engine (started on the first
generation), one lock per project, and one WebSocket hub per project.

The studio core is blocking (disk, git, Dask client calls), so every core call runs on a
small thread pool (:meth:`StudioState.run`); events produced on other threads (the engine's
listeners) hop back onto the Tornado loop with ``IOLoop.add_callback`` before they touch a
WebSocket.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar
from urllib.parse import quote

from tornado.ioloop import IOLoop

from studio.config import load_settings
from studio.errors import ProjectNotFound
from studio.project.layout import MANIFEST_FILE
from studio.project.naming import is_safe_folder_name
from studio.project.project import Project
from studio.service import SavedGraph, StudioService, project_link
from studio.workspace import PROJECTS_DIR, WORKSPACE_FILE, Workspace

if TYPE_CHECKING:
    from studio.engine import Engine

T = TypeVar("T")
API_PREFIX: Final = "studio/api/v1"
WS_PREFIX: Final = "studio/ws"
EXECUTOR_THREADS: Final = 4


class EventClient(Protocol):
    """A connected WebSocket, as the hub sees it."""

    def send_event(self, message: dict[str, Any]) -> None: ...


def _is_file(path: Path) -> bool:
    """``Path.is_file`` that also says False for names the OS refuses (too long, ...)."""
    try:
        return path.is_file()
    except OSError:
        return False


def choose_workspace(*, root_dir: Path) -> Path:
    """``STUDIO_WORKSPACE`` when it was set explicitly, else Jupyter's root_dir: in JupyterLab
    the files a user sees are the workspace's."""
    settings = load_settings()
    if "workspace" in settings.model_fields_set:
        return settings.workspace.expanduser().resolve()
    return root_dir.expanduser().resolve()


class ProjectHub:
    """The WebSocket clients of one project, and its one engine subscription."""

    def __init__(self) -> None:
        self.loop: IOLoop | None = None
        self.clients: set[EventClient] = set()
        self.unlisten: Callable[[], None] | None = None

    def add(self, client: EventClient) -> None:
        """Called on the serving loop: that is the loop events must be sent from."""
        self.loop = IOLoop.current()
        self.clients.add(client)

    def discard(self, client: EventClient) -> None:
        self.clients.discard(client)

    def broadcast(self, message: dict[str, Any], *, exclude: EventClient | None = None) -> None:
        """Send to every client (on the loop's thread only)."""
        for client in list(self.clients):
            if client is not exclude:
                client.send_event(message)

    def broadcast_threadsafe(self, message: dict[str, Any]) -> None:
        """From any thread (the engine calls listeners on its own threads)."""
        if self.loop is not None:  # no client has connected yet: nobody to tell
            self.loop.add_callback(self.broadcast, message)


class StudioState:
    def __init__(
        self,
        *,
        workspace: Path,
        root_dir: Path,
        base_url: str,
        log: logging.Logger,
    ) -> None:
        self.workspace_path = workspace.expanduser().resolve()
        """The workspace folder. Nothing is created there until the first project is (a
        server started in $HOME must not scaffold a workspace into it)."""
        self.root_dir = root_dir.expanduser().resolve()
        self.base_url = base_url
        self.log = log
        self.executor = ThreadPoolExecutor(EXECUTOR_THREADS, thread_name_prefix="studio")
        self.hubs: dict[str, ProjectHub] = {}
        self._projects: dict[str, Project] = {}
        self._services: dict[str, StudioService] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._engine: Engine | None = None
        self.closed = False
        # Held only for dict lookups (never around disk or network), so taking it on the
        # Tornado loop costs nothing.
        self._guard = threading.Lock()
        # Starting the engine (connecting, or starting a local cluster) takes seconds: its own
        # lock, so nobody waiting for a project or a hub waits for a cluster.
        self._engine_lock = threading.Lock()

    # --- running core calls off the loop ------------------------------------------------------

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = IOLoop.current()  # the serving loop (the one running this coroutine)
        return await loop.run_in_executor(self.executor, partial(fn, *args, **kwargs))

    # --- projects -----------------------------------------------------------------------------

    def project(self, project_id: str) -> Project:
        """The project in ``Projects/<project_id>``; ``ProjectNotFound`` for anything else
        (no path separators, no hidden or reserved names, so no traversal)."""
        folder = self.workspace_path / PROJECTS_DIR / project_id
        if not is_safe_folder_name(project_id) or not _is_file(folder / MANIFEST_FILE):
            raise ProjectNotFound(
                f"no project {project_id!r} in this workspace",
                hint="GET studio/api/v1/projects lists the projects (their id is the folder)",
            )
        with self._guard:
            cached = self._projects.get(project_id)
        if cached is not None:
            return cached
        opened = Project(folder)  # reads the manifest: outside the lock
        with self._guard:
            return self._projects.setdefault(project_id, opened)

    def existing_workspace(self) -> Workspace | None:
        """The workspace when the folder is one already (it has ``workspace.json``), else
        None: reading never scaffolds one (a ``$HOME/Projects`` of the user's own does not
        make $HOME a workspace)."""
        if _is_file(self.workspace_path / WORKSPACE_FILE):
            return Workspace(self.workspace_path)
        return None

    def create_workspace(self) -> Workspace:
        """The workspace, its layout created if missing (for the first new project)."""
        return Workspace(self.workspace_path)

    def lock(self, project_id: str) -> threading.RLock:
        """Serializes the server's edits of one project (REST and WebSocket alike)."""
        with self._guard:
            return self._locks.setdefault(project_id, threading.RLock())

    def relative_to_root(self, path: Path) -> str | None:
        """``path`` relative to Jupyter's root_dir (POSIX), or None when it is outside."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root_dir):
            return None
        return resolved.relative_to(self.root_dir).as_posix()

    def media_url(self, project_id: str, relative: str) -> str:
        return f"{self.base_url}{API_PREFIX}/projects/{quote(project_id)}/media/{quote(relative)}"

    # --- engine and hubs ------------------------------------------------------------------------

    @property
    def shared_scheduler(self) -> bool:
        """Is a scheduler configured (so connecting costs no cluster start)?"""
        from studio.engine.settings import engine_setting

        return bool(engine_setting(self.workspace_path, "scheduler"))

    @property
    def engine_started(self) -> bool:
        return self._engine is not None

    def engine(self) -> Engine:
        """The engine, connected on first use (``STUDIO_SCHEDULER``, the workspace.json's
        scheduler, or a local cluster). Blocking: call it through :meth:`run`."""
        from studio.engine import Engine

        engine = self._engine
        if engine is not None:
            return engine
        with self._engine_lock:  # start once; never under ``_guard``
            if self._engine is None:
                self._engine = Engine.for_workspace(self.workspace_path)
            return self._engine

    def hub(self, project_id: str) -> ProjectHub:
        with self._guard:
            return self.hubs.setdefault(project_id, ProjectHub())

    def project_service(self, project_id: str) -> StudioService:
        """The studio service of one project for this server's clients: edits saved at once
        under the project's lock, events broadcast to its hub, thumbnails, films and EDLs by media
        URL."""
        project, lock, hub = self.project(project_id), self.lock(project_id), self.hub(project_id)
        link = project_link(root=project.path, url_of=partial(self.media_url, project_id))
        with self._guard:
            service = self._services.get(project_id)
            if service is None:
                service = StudioService(
                    project,
                    editor=SavedGraph(project, lock=lock),
                    link=link,
                    publish=hub.broadcast_threadsafe,
                    engines=ServerEngine(self),
                    file_link=link,  # films and EDLs too: the media route serves any size
                )
                self._services[project_id] = service
            return service

    def listen(self, project_id: str) -> None:
        """Relay the engine's events of this project to its hub, once (blocking if the engine
        is not started yet: only call it when generating or when it is); the project's lost
        jobs are settled then, so no client sees them generating forever."""
        hub = self.hub(project_id)
        with self._guard:
            if hub.unlisten is not None:
                return
            hub.unlisten = lambda: None  # claimed; replaced below
        try:
            hub.unlisten = self.project_service(project_id).follow(self.engine())
        except BaseException:
            hub.unlisten = None  # not subscribed: the next call tries again
            raise

    def close(self) -> None:
        """Stop relaying and close the engine's Dask client (and a local cluster it started).
        Idempotent (the server's extension shutdown and a test teardown may both call it)."""
        self.closed = True
        with self._guard:
            hubs = list(self.hubs.values())
            services = list(self._services.values())
        for hub in hubs:
            hub.unlisten = None
        for service in services:  # stops relaying (whether a client or a generation began it)
            service.close()
        with self._engine_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            cluster = getattr(engine.client, "cluster", None)
            engine.client.close()  # type: ignore[no-untyped-call]  # distributed is untyped
            if cluster is not None:
                cluster.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


class ServerEngine:
    """The server's engine as the studio service asks for it (started on first use)."""

    def __init__(self, state: StudioState) -> None:
        self.state = state

    @property
    def started(self) -> bool:
        return self.state.engine_started

    def get(self) -> Engine:
        return self.state.engine()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
