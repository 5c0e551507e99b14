"""Where the graph a front end edits lives. The studio service edits through one of these:

* :class:`LiveGraph` — the kernel's canvas: the project's Graph in memory, with its undo
  history. The graph announces each change to the canvas (which shows it in its views and
  autosaves it), and node status is followed live in this process.
* :class:`SavedGraph` — a server's clients: every edit is made to the file's latest version
  (a kernel's canvas may have saved since) and saved at once, under the project's lock; the
  service then sends every client the new graph, and node status is read back from the
  durable job log (the server may not have heard every event).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Final, Protocol

from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.graph.graph import Graph
    from studio.project.project import Project

NO_HISTORY: Final = (
    "undo and redo are not available here: they need the edit history of one editor (the "
    "notebook's canvas has it; the server saves every edit at once)"
)


class GraphEditor(Protocol):
    @property
    def live(self) -> bool:
        """True: the one live editor of this process (see the module doc)."""
        ...

    def editing(self) -> AbstractContextManager[Graph]:
        """The graph to change; what the block did is kept (saved, or left to autosave)."""
        ...

    def reading(self) -> AbstractContextManager[Graph]:
        """The current graph; a saved graph is held (under the project's lock) while the block
        reads it, a live one is the kernel's own (edited on the kernel's thread only)."""
        ...

    def sync_fields(self, graph: Graph) -> dict[str, Any]:
        """``server:full_sync``'s graph fields for this front end."""
        ...

    def save(self) -> None: ...

    def undo(self) -> None: ...

    def redo(self) -> None: ...


class LiveGraph:
    """The kernel canvas's graph: edited in memory; ``save`` is the canvas's own (it reports
    a conflict on the canvas); ``sync_fields`` lets the canvas bring its views up to date."""

    live = True

    def __init__(
        self,
        graph: Graph,
        *,
        save: Callable[[], object],
        sync_fields: Callable[[Graph], dict[str, Any]] | None = None,
    ) -> None:
        self.graph = graph
        self._save = save
        self._sync_fields = sync_fields

    @contextmanager
    def editing(self) -> Iterator[Graph]:
        yield self.graph  # the graph announces the change; the canvas autosaves it

    @contextmanager
    def reading(self) -> Iterator[Graph]:
        yield self.graph

    def sync_fields(self, graph: Graph) -> dict[str, Any]:
        return self._sync_fields(graph) if self._sync_fields else {"graph": graph.to_json()}

    def save(self) -> None:
        self._save()

    def undo(self) -> None:
        self.graph.undo()

    def redo(self) -> None:
        self.graph.redo()


class SavedGraph:
    """A server client's graph: the project's canvas file, re-read for every look and saved
    after every edit, under ``lock`` (which serializes the server's edits of the project)."""

    live = False

    def __init__(self, project: Project, *, lock: threading.RLock) -> None:
        self.project = project
        self.lock = lock

    @contextmanager
    def editing(self) -> Iterator[Graph]:
        with self.lock:
            graph = self.project.reload_graph()
            yield graph
            graph.save()  # not after a refused edit: the exception skips it

    @contextmanager
    def reading(self) -> Iterator[Graph]:
        with self.lock:
            yield self.project.reload_graph()

    def sync_fields(self, graph: Graph) -> dict[str, Any]:
        return {"graph": graph.to_json()}

    def save(self) -> None:
        """Nothing to do: every edit was saved at once."""

    def undo(self) -> None:
        raise StudioError(NO_HISTORY)

    def redo(self) -> None:
        raise StudioError(NO_HISTORY)
