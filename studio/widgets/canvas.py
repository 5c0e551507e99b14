"""``Canvas``: the Production Canvas as an anywidget, a live view and editor of a ``Graph``.

The Python ``Graph`` is the single source of truth. The browser edits optimistically and sends
each edit as a ``client:*`` event; the widget is a transport: it hands every message to the
studio service (:mod:`studio.service`, the same handlers as the server's WebSocket), which
applies it to the Graph (validated). The Graph's change notification sends the change back as
a ``server:graph_patch`` (just the nodes and edges that changed, numbered). The whole graph
goes only with the widget's state (a new view), in ``server:full_sync`` (asked for by every
view as it mounts, and by a view that misses a patch) and after a refused edit, which comes
back as a ``server:notification`` plus the true graph, undoing the optimistic change on
screen. Edits are saved to the canvas file after a short quiet period (and at once on
``client:save``).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anywidget
import traitlets

from studio.errors import StudioError, VersionConflict
from studio.events import make_event
from studio.graph.graph import Graph, GraphChange
from studio.graph.patches import build_patch
from studio.graph.registry import NodeTypeRegistry, registry
from studio.graph.sockets import compatibility_table
from studio.service import (
    NO_ASSEMBLER,
    NO_ENGINE,
    EngineAccess,
    GivenEngine,
    KernelEngine,
    LiveGraph,
    StudioService,
    inline_link,
    kernel_link,
    settings_view,
)

if TYPE_CHECKING:
    from studio.engine import Engine
    from studio.project.project import Project

__all__ = [
    "NO_ASSEMBLER", "NO_ENGINE", "Canvas", "follow_engine", "project_canvas", "refresh_canvases",
]  # fmt: skip

STATIC: Final = Path(__file__).parent / "static"
NodeHandler = Callable[[str], None]
SENT_HISTORY: Final = 1000


def static_file(name: str) -> str | Path:
    path = STATIC / name
    if not path.exists():
        return (
            "export default { render({ el }) { el.textContent = "
            '"The studio widget front end is not built: run `make widget` in the studio checkout '
            '(it runs npm ci && npm run build in widgets/)."; } };'
            if name.endswith(".js")
            else ""
        )
    return path


class Canvas(anywidget.AnyWidget):
    _esm = static_file("canvas.js")
    _css = static_file("canvas.css")

    graph_seq = traitlets.Int(0).tag(sync=True)
    """The patch number of the graph in the latest ``server:full_sync`` (set just before it,
    on the same comm): the browser takes the ``server:graph_patch`` events after it."""
    node_types = traitlets.Dict().tag(sync=True)
    """The registry (palette, sockets, fields, UI hints) and the socket compatibility table."""
    node_status = traitlets.Dict().tag(sync=True)
    """Per node: state, progress, step, error, thumbnail, takes... (folded server events)."""
    pipelines: traitlets.List[str] = traitlets.List(traitlets.Unicode()).tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    project_settings = traitlets.Dict().tag(sync=True)
    """The project's editable settings (title, quality, aspect ratio...) and their choices."""
    save_status = traitlets.Unicode("saved").tag(sync=True)
    history = traitlets.Dict({"can_undo": False, "can_redo": False}).tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)
    project_files = traitlets.Dict({}).tag(sync=True)
    """Where the project is (``root``, absolute) and the kernel's ``home``: the browser links
    a project file (an export to play) through JupyterLab's ``files/`` route when the project
    is inside the server's root; the kernel cannot know the page's URL."""

    def __init__(
        self,
        graph: Graph,
        *,
        project: Project | None = None,
        node_types: NodeTypeRegistry = registry,
        autosave_delay: float = 1.0,
        engines: EngineAccess | None = None,
        **kwargs: Any,
    ) -> None:
        # Before the widget opens its comm: the opening state holds the whole graph.
        self._graph = graph
        self._patch_seq = 0
        self._patched_version = graph.version
        self._patch_lock = threading.Lock()
        super().__init__(**kwargs)
        self._project = project
        self._node_types = node_types
        self._autosave_delay = autosave_delay
        self._autosave_timer: threading.Timer | asyncio.TimerHandle | None = None
        self.sent: deque[dict[str, Any]] = deque(maxlen=SENT_HISTORY)
        """The latest events sent to the browser, in order (for notebooks and tests); bounded
        so a long session's progress events do not pile up in the kernel."""
        self.title = project.title if project else (graph.path.name if graph.path else "")
        if project is not None:
            self.project_files = {"root": str(project.path.resolve()), "home": str(Path.home())}
        self._push_node_types()
        self._push_graph()
        self._unsubscribe = [
            graph.subscribe(self._on_graph_change),
            node_types.subscribe(self._push_node_types),
        ]
        self.service = StudioService(
            project,
            editor=LiveGraph(graph, save=self.save, sync_fields=self._graph_for_sync),
            link=kernel_link(project) if project is not None else inline_link,
            publish=self._send_to_views,
            engines=engines,
            on_status=self._show_status,
            on_settings=self._show_settings,
        )
        """Every client event of this canvas is handled there (as the server's are)."""
        self.node_status = self.service.status
        if project is not None:
            self._show_settings(settings_view(project))
            _of_projects.add(self)
        self.on_msg(self._on_message)

    @property
    def graph(self) -> dict[str, Any]:
        """The graph as the canvas file holds it (nodes, edges, version), read now. The browser
        gets it whole with the widget's state and in ``server:full_sync``, and each change as
        a ``server:graph_patch``: never as a trait change, which would send all of it."""
        return self._graph.to_json()

    @property
    def graph_object(self) -> Graph:
        return self._graph

    def get_state(self, key: str | list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
        """The widget's state; the whole of it (a view's model being made: the widget shown, a
        page reloaded) also holds the whole graph, so a view draws it at once."""
        state: dict[str, Any] = super().get_state(key)
        if key is None:
            state["graph"] = self.graph
        return state

    # --- engine hooks ---------------------------------------------------------------------------

    def use_engine(self, engine: Engine) -> None:
        """Generate on ``engine`` (instead of the kernel's default one) and show every event
        of the project's jobs on their nodes, status restored from the durable job log."""
        self.service.generation_handler = None  # this engine generates from now on
        self.service.engines = GivenEngine(engine)
        self.service.follow(engine)

    def on_generate(self, handler: NodeHandler | None) -> None:
        """Call ``handler(node_id)`` when a node's Generate button is clicked, instead of the
        studio engine (``None``: the studio engine again, if the canvas has one)."""
        self.service.generation_handler = handler

    def on_cancel(self, handler: NodeHandler | None) -> None:
        """Call ``handler(node_id)`` when a running generation is cancelled from its node."""
        self.service.cancel_handler = handler

    def on_render(self, handler: NodeHandler | None) -> None:
        """Call ``handler(node_id)`` when an assembler node's Render button is clicked."""
        self.service.render_handler = handler

    def emit(self, name: str, **payload: Any) -> dict[str, Any]:
        """Send a server event to the browser; node events also update ``node_status``."""
        message = make_event(name, **payload)
        self.service.publish(message)
        return message

    # --- transport ------------------------------------------------------------------------------

    def _send_to_views(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        self.send(message)

    def _show_status(self, status: dict[str, Any]) -> None:
        self.node_status = status

    def _show_settings(self, settings: dict[str, Any]) -> None:
        self.project_settings = settings
        self.title = settings["title"]

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        self.service.handle(content, reply=self._send_to_views)

    def _graph_for_sync(self, graph: Graph) -> dict[str, Any]:
        """``server:full_sync``'s graph and its patch number (the browser continues with the
        patches after it); the traits are brought up to date first, for views that read them."""
        with self._patch_lock:  # the graph and its number read together
            self._push_graph()
            return {"graph": self.graph, "seq": self._patch_seq}

    # --- graph -> browser -----------------------------------------------------------------------

    def _push_graph(self) -> None:
        """Before the whole graph goes to the browser (``server:full_sync``): its patch number,
        so the browser continues with the patches after it; and the undo state."""
        self.graph_seq = self._patch_seq
        self._push_history()

    def _push_history(self) -> None:
        self.history = {"can_undo": self._graph.can_undo, "can_redo": self._graph.can_redo}

    def _send_patch(self, change: GraphChange) -> None:
        """``change`` to the browser as the next ``server:graph_patch``."""
        with self._patch_lock:  # numbered and sent in one order, whichever thread changed it
            patch = build_patch(
                self._graph, change, seq=self._patch_seq + 1, base_version=self._patched_version
            )
            self._patch_seq, self._patched_version = patch.seq, patch.version
            self.emit("server:graph_patch", **patch.model_dump())

    def _push_node_types(self) -> None:
        payload = self._node_types.as_json()
        payload["compatibility"] = compatibility_table()
        self.node_types = payload
        self.pipelines = sorted(
            {t["pipeline_id"] for t in payload["node_types"] if t.get("pipeline_id")}
        )

    def _on_graph_change(self, change: GraphChange) -> None:
        self._send_patch(change)
        self._push_history()
        if change.kind == "saved":
            self.save_status = "saved"
        else:
            self.save_status = "unsaved"
            self._schedule_autosave()

    # --- saving ---------------------------------------------------------------------------------

    def _schedule_autosave(self) -> None:
        if self._autosave_delay < 0:
            return
        if self._autosave_timer is not None:
            self._autosave_timer.cancel()
        try:  # in a kernel, stay on its event loop (no threads touching the comm)
            loop = asyncio.get_running_loop()
            self._autosave_timer = loop.call_later(self._autosave_delay, self.save)
        except RuntimeError:
            timer = threading.Timer(self._autosave_delay, self.save)
            timer.daemon = True
            timer.start()
            self._autosave_timer = timer

    def save(self) -> bool:
        """Save the graph now; on a version conflict tell the user and keep the edits."""
        if self._autosave_timer is not None:
            self._autosave_timer.cancel()
            self._autosave_timer = None
        if not self._graph.dirty or self._graph.path is None:
            return False
        self.save_status = "saving"
        try:
            self._graph.save()
        except VersionConflict as exc:
            self.save_status = "conflict"
            self.emit("server:notification", level="error", message=str(exc))
            return False
        except StudioError as exc:
            self.save_status = "error"
            self.emit("server:notification", level="error", message=str(exc))
            return False
        return True

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.service.close()
        if self._autosave_timer is not None:
            self._autosave_timer.cancel()
        super().close()


_shown: weakref.WeakSet[Canvas] = weakref.WeakSet()
"""This kernel's canvases with an engine (see :func:`follow_engine`)."""


_of_projects: weakref.WeakSet[Canvas] = weakref.WeakSet()
"""This kernel's canvases of a project (see :func:`refresh_canvases`)."""


def refresh_canvases(project: Project, node_ids: list[str]) -> None:
    """Every canvas of ``project`` in this kernel reads those nodes' folders again: a take
    chosen elsewhere (the sweep gallery) is written to the folder after the graph's change
    notice, which the canvas has already shown."""
    for canvas in list(_of_projects):
        service = canvas.service
        if service.project is not None and service.project.path == project.path:
            service.refresh(node_ids)


def follow_engine(project: Project, engine: Engine) -> None:
    """Every canvas of ``project`` in this kernel (that generates on the studio engine) shows
    the jobs of ``engine`` live: a take started from Python (``project.generate``) appears on
    its node as one started from the canvas does."""
    for canvas in list(_shown):
        service = canvas.service
        mine = service.project is not None and service.project.path == project.path
        if mine and service.engines is not None and service.generation_handler is None:
            service.follow(engine)


def project_canvas(project: Project, *, height: int = 640, engine: bool = True) -> Canvas:
    """``project.canvas()``: the installed pipelines are registered first, so each appears in
    the palette; with ``engine`` the Generate buttons run on the kernel's studio engine,
    started on the first click, and node status is restored from the project's job log."""
    from studio.pipelines import register_node_types

    register_node_types()
    engines = KernelEngine(project) if engine else None
    canvas = Canvas(project.graph, project=project, height=height, engines=engines)
    if engine:
        canvas.service.resume()
        _shown.add(canvas)
    return canvas
