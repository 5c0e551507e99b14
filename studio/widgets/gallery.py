"""``sweep.gallery()``: a sweep's takes as an anywidget, a grid labelled by the sweep's axes.

The kernel reads the sweep as :meth:`Sweep.cell_views` does (the durable job log and the
shot's folder), so a gallery of a sweep reopened after a kernel restart fills in the same
way; it polls until no cell is queued or running, or the widget is closed. Each cell carries
its take's cached thumbnail inlined (``05_Cache/thumbnails``, ~20 kB: as the canvas shows
takes) and a link to the full picture through the lab's media route, loaded only when a take
is enlarged. "Make active" is a ``client:update_node_data`` handed to the studio service, as
a canvas's take choice is: the shot's ``active_take.json`` is written and committed, the
shared graph changes, and a canvas of the project in this kernel shows the new active take.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any, Final

import anywidget
import traitlets

from studio.engine.settling import settle
from studio.errors import StudioError
from studio.graph.graph import GraphChange
from studio.project.thumbnails import make_thumbnail
from studio.service import LiveGraph, StudioService, inline_link, kernel_link
from studio.widgets.canvas import refresh_canvases, static_file

if TYPE_CHECKING:
    from studio.project.takes import Take
    from studio.sweeps import Sweep

__all__ = ["Gallery", "sweep_gallery"]

POLL_S: Final = 0.5
"""How often a live gallery reads the job log and the shot's folder."""
SETTLE_EVERY_S: Final = 5.0
"""How often it settles lost jobs (a cell whose cluster went away shows failed)."""
NOT_MINE: Final = "the gallery only chooses a take of its sweep's shot"


class Gallery(anywidget.AnyWidget):
    _esm = static_file("gallery.js")
    _css = static_file("gallery.css")

    title = traitlets.Unicode("").tag(sync=True)
    node_id = traitlets.Unicode("").tag(sync=True)
    """The sweep's Shot node: "Make active" sets its active take."""
    layout = traitlets.Dict().tag(sync=True)
    """The grid (:meth:`studio.sweeps.grid.GridLayout.as_json`): facets, labels, cell indices."""
    cells = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Per cell: index, label, status, take, error, thumbnail (a data URL), image (a link)."""
    active_take = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    progress = traitlets.Dict().tag(sync=True)
    """done, running, queued, failed, canceled, total; ``finished`` once none is left to run."""
    live = traitlets.Bool(False).tag(sync=True)
    """The kernel still polls (cells are queued or running)."""
    notice = traitlets.Dict().tag(sync=True)
    """The latest message for the user: level, message and a number (a repeat shows again)."""

    def __init__(self, sweep: Sweep, *, poll_s: float = POLL_S, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sweep = sweep
        project = sweep.project
        self._link = kernel_link(project)
        self._poll_s = poll_s
        self._thumbnails: dict[str, str | None] = {}
        """Take name -> its inlined thumbnail (read once: a take never changes)."""
        self._service: StudioService | None = None
        self._closed = threading.Event()
        self._notices = 0
        self.title = sweep.title
        self.node_id = sweep.node_id
        self.layout = sweep.layout().as_json()
        self.refresh()
        self._unsubscribe = project.graph.subscribe(self._on_graph_change)
        self.on_msg(self._on_message)
        self._poller: asyncio.Task[None] | threading.Thread | None = None
        if not self.progress.get("finished"):
            self._start_polling()

    # --- reading the sweep ----------------------------------------------------------------------

    def refresh(self) -> bool:
        """Read the sweep's cells and the shot's active take now; returns whether every cell
        is finished (none queued or running)."""
        views = self.sweep.cell_views()
        cells = [
            {"index": view.index, "label": view.label, "status": view.status,
             "take": view.take.name if view.take else None, "error": view.error,
             "thumbnail": self._thumbnail(view.take) if view.take else None,
             "image": self._link(view.take.path) if view.take else None}
            for view in views
        ]  # fmt: skip
        counts = {name: sum(c["status"] == name for c in cells)
                  for name in ("done", "running", "queued", "failed", "canceled")}  # fmt: skip
        finished = counts["running"] == 0 and counts["queued"] == 0
        progress = {**counts, "total": len(cells), "finished": finished}
        with self.hold_sync():  # one message for all of it
            if cells != self.cells:
                self.cells = cells
            if progress != self.progress:
                self.progress = progress
            self._read_active()
        return finished

    def _thumbnail(self, take: Take) -> str | None:
        if take.name not in self._thumbnails:
            thumbnail = make_thumbnail(self.sweep.project.path, take)
            self._thumbnails[take.name] = inline_link(thumbnail) if thumbnail else None
        return self._thumbnails[take.name]

    def _read_active(self) -> None:
        record = self.sweep.record
        try:
            active = self.sweep.project.active_take(scene=record.scene, shot=record.shot)
        except StudioError:
            active = None
        name = active.name if active else None
        if name != self.active_take:
            self.active_take = name

    def _on_graph_change(self, change: GraphChange) -> None:
        if self.sweep.node_id in change.node_ids or change.kind == "replaced":
            self._read_active()  # a take chosen on the canvas (or here)

    # --- the poll ---------------------------------------------------------------------------

    def _start_polling(self) -> None:
        self.live = True
        try:  # in a kernel, on its event loop: trait changes go out from the kernel's thread
            self._poller = asyncio.get_running_loop().create_task(self._poll_async())
        except RuntimeError:  # a script or a test: a thread of its own
            self._poller = threading.Thread(target=self._poll_thread, daemon=True,
                                            name=f"gallery-{self.sweep.id}")  # fmt: skip
            self._poller.start()

    def _step(self, settled: float) -> tuple[bool, float]:
        """One look: settle lost jobs now and then, read the sweep; (finished, settled at)."""
        now = time.monotonic()
        if now - settled >= SETTLE_EVERY_S:
            settle(self.sweep.project)
            settled = now
        return self.refresh(), settled

    async def _poll_async(self) -> None:
        settled = 0.0
        try:
            while not self._closed.is_set():
                await asyncio.sleep(self._poll_s)
                if self._closed.is_set():
                    break
                finished, settled = self._step(settled)
                if finished:
                    break
        except Exception as exc:  # the gallery says so; the sweep itself goes on
            self._tell(f"The gallery stopped following the sweep: {exc}", level="error")
        finally:
            self._stopped()

    def _poll_thread(self) -> None:
        settled = 0.0
        try:
            while not self._closed.wait(self._poll_s):
                finished, settled = self._step(settled)
                if finished:
                    break
        except Exception as exc:
            self._tell(f"The gallery stopped following the sweep: {exc}", level="error")
        finally:
            self._stopped()

    def _stopped(self) -> None:
        if not self._closed.is_set():
            self.live = False

    @property
    def polling(self) -> bool:
        """The kernel is still following the sweep (for notebooks and tests)."""
        poller = self._poller
        if isinstance(poller, threading.Thread):
            return poller.is_alive()
        return poller is not None and not poller.done()

    # --- choosing a take ------------------------------------------------------------------------

    def make_active(self, take: str) -> bool:
        """Make ``take`` (a file name) the shot's active take through the studio service, as a
        canvas's take choice; True when it is. A refusal is told on the gallery."""
        self._on_message(self, {"event": "client:update_node_data",
                                "payload": {"node_id": self.sweep.node_id,
                                            "data": {"active_take": take}}}, [])  # fmt: skip
        return self.active_take == take

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        message = content if isinstance(content, dict) else {}
        payload = message.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        data = payload.get("data")
        data = data if isinstance(data, dict) else {}
        chosen = data.get("active_take")
        mine = (message.get("event") == "client:update_node_data"
                and payload.get("node_id") == self.sweep.node_id
                and set(data) == {"active_take"} and isinstance(chosen, str))  # fmt: skip
        if not mine:
            self._tell(NOT_MINE, level="error")
            return
        told = self._notices
        self._studio_service().handle(content, reply=self._from_service)
        self._read_active()
        if self.active_take != chosen:
            if self._notices == told:  # refused without a word: still say so
                self._tell(f"{chosen} was not made active", level="error")
            return
        self._save_graph()
        refresh_canvases(self.sweep.project, [self.sweep.node_id])
        self._tell(f"{chosen} is now the active take of SHOT-{self.sweep.record.shot:03d}",
                   level="info")  # fmt: skip

    def _studio_service(self) -> StudioService:
        """The studio service for the project's live graph (made on the first choice: its
        views read every shot's folder)."""
        if self._service is None:
            project = self.sweep.project
            graph = project.graph
            self._service = StudioService(
                project, editor=LiveGraph(graph, save=graph.save), link=self._link,
                publish=self._from_service,
            )  # fmt: skip
        return self._service

    def _from_service(self, message: dict[str, Any]) -> None:
        """What the service tells its client: its notifications are shown; the graph syncs
        and node status it sends are a canvas's business."""
        if message.get("event") == "server:notification":
            payload = message.get("payload", {})
            self._tell(str(payload.get("message", "")), level=str(payload.get("level", "error")))

    def _save_graph(self) -> None:
        """Save the graph now (a canvas would autosave it; there may be none on screen)."""
        graph = self.sweep.project.graph
        if graph.dirty and graph.path is not None:
            try:
                graph.save()
            except StudioError as exc:
                self._tell(f"The take is active, but the canvas file was not saved: {exc}",
                           level="warning")  # fmt: skip

    def _tell(self, message: str, *, level: str) -> None:
        self._notices += 1
        self.notice = {"level": level, "message": message, "seq": self._notices}

    # --- closing --------------------------------------------------------------------------------

    def close(self) -> None:
        self._closed.set()
        poller = self._poller
        if isinstance(poller, asyncio.Task):
            poller.cancel()
        self._unsubscribe()
        if self._service is not None:
            self._service.close()
        super().close()


def sweep_gallery(sweep: Sweep, *, poll_s: float = POLL_S) -> Gallery:
    """``sweep.gallery()``."""
    return Gallery(sweep, poll_s=poll_s)
