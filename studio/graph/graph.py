"""The ``Graph``: the Production Canvas as a Python object, the single source of truth.

The canvas file is Svelte Flow's ``nodes`` / ``edges`` JSON plus ``version``::

    {"version": 3,
     "nodes": [{"id": "shot-1", "type": "Shot", "position": {"x": 0, "y": 0},
                "data": {"prompt": "...", "scene": 1, "shot": 10}, "parentId": "scene-1"}],
     "edges": [{"id": "e1", "source": "pipe-1", "sourceHandle": "pipeline",
                "target": "shot-1", "targetHandle": "pipeline"}]}

``type`` is the node-type name in the registry; handles are socket names. Every mutation is
validated (types, sockets, single-valued inputs, cycles), recorded for undo/redo and announced
to subscribers; ``save()`` writes atomically under an optimistic lock on ``version``.
"""

from __future__ import annotations

import copy
import itertools
import math
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from filelock import FileLock

from studio.atomic import atomic_write_bytes
from studio.documents import NumberInFileError, dump_json, read_json
from studio.errors import ManifestError, StudioError, VersionConflict
from studio.graph.registry import NodeType, NodeTypeRegistry, UnknownNodeType, registry
from studio.graph.sockets import sockets_compatible

HISTORY_LIMIT = 200
GraphErrorCode = Literal[
    "unknown_node", "unknown_edge", "unknown_socket", "type_mismatch", "input_occupied",
    "cycle", "invalid_field", "invalid_parent", "duplicate_id", "taken",
]  # fmt: skip


class GraphError(StudioError):
    """An edit the graph refuses; ``code`` says which rule (the canvas shows ``message``)."""

    def __init__(self, code: GraphErrorCode, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class GraphFileError(ManifestError):
    """The canvas file cannot be loaded; the message says what and where."""


@dataclass
class Node:
    id: str
    type: str
    position: dict[str, float]
    data: dict[str, Any]
    parent_id: str | None = None
    width: float | None = None
    height: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "position": dict(self.position),
            "data": copy.deepcopy(self.data),
        }
        if self.parent_id is not None:
            out["parentId"] = self.parent_id
        if self.width is not None:
            out["width"] = self.width
        if self.height is not None:
            out["height"] = self.height
        return out


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    source_handle: str
    target: str
    target_handle: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "sourceHandle": self.source_handle,
            "target": self.target,
            "targetHandle": self.target_handle,
        }


@dataclass(frozen=True)
class GraphChange:
    """What changed: ``kind`` and exactly the nodes and edges added, updated or removed, by id,
    so a subscriber can follow a change by re-reading just those (a canvas sends them to the
    browser as a patch). An undo, a redo or a reload (``replaced``) names everything it changed;
    ``saved`` names nothing (only ``version`` moved)."""

    kind: Literal["node_added", "node_updated", "nodes_moved", "node_removed", "edge_added",
                  "edge_removed", "replaced", "saved"]  # fmt: skip
    node_ids: tuple[str, ...] = ()
    edge_ids: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        """The node ids, then the edge ids."""
        return self.node_ids + self.edge_ids


@dataclass(frozen=True)
class _Saved:
    """Some nodes and edges as they were (``None``: absent), to put back on undo, redo or a
    failed edit: history holds what each edit touched, never the whole graph. The order of all
    nodes and edges is kept when putting back re-inserts some (an undone removal), so they
    return to their places in the canvas file."""

    nodes: dict[str, Node | None]
    edges: dict[str, Edge | None]
    node_order: tuple[str, ...] | None = None
    edge_order: tuple[str, ...] | None = None


Listener = Callable[[GraphChange], None]
_counter = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def finite_number(value: Any, *, what: str) -> float:
    """``value`` as a float, or ``GraphError`` unless it is a finite number: the canvas file
    must stay standard JSON (no NaN or Infinity) for the browser and every other reader."""
    try:
        number = (
            float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        )
    except OverflowError:  # an int too large for a float
        number = None
    if number is None or not math.isfinite(number):
        raise GraphError("invalid_field", f"{what} must be a finite number, not {value!r}")
    return number


def finite_xy(position: tuple[float, float] | dict[str, float], *, what: str) -> dict[str, float]:
    """``{"x": .., "y": ..}`` from a tuple or a dict, each a finite number."""
    x, y = (position["x"], position["y"]) if isinstance(position, dict) else position
    return {"x": finite_number(x, what=f"{what}.x"), "y": finite_number(y, what=f"{what}.y")}


class Graph:
    """Nodes and edges of one canvas; see the module doc for the file format."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        node_types: NodeTypeRegistry = registry,
        version: int = 1,
    ) -> None:
        self.path = path
        self.node_types = node_types
        self.version = version
        self._nodes: dict[str, Node] = {}
        self._edges: dict[str, Edge] = {}
        self._listeners: list[Listener] = []
        self._undo: list[_Saved] = []
        self._redo: list[_Saved] = []
        self._lock = threading.RLock()
        self._loading = False  # while building from a file: no undo snapshots, no notifications
        self.dirty = False
        """True when there are changes not yet saved."""
        self.taken_outside: Callable[[str, dict[str, Any]], frozenset[Any]] | None = None
        """For a node type with unique fields: the values of the last one taken outside the
        graph for ``data`` (a project's render folders: a new Shot takes none of them)."""
        self.defaults_outside: Callable[[str], Mapping[str, Any]] | None = None
        """Field defaults from outside the graph for a new node of a type, over the
        registry's (a project's settings: a new Assembler takes its frame rate)."""

    # --- reading ----------------------------------------------------------------------------

    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes.values())

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges.values())

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError("unknown_node", f"no node {node_id!r} in the graph") from None

    def find_node(self, node_id: str) -> Node | None:
        return self._nodes.get(node_id)

    def find_edge(self, edge_id: str) -> Edge | None:
        return self._edges.get(edge_id)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold edits (from other threads) back while reading several things at once."""
        with self._lock:
            yield

    def node_type(self, node_id: str) -> NodeType:
        return self.node_types.get(self.node(node_id).type)

    def incoming(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges.values() if e.target == node_id]

    def outgoing(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges.values() if e.source == node_id]

    def children(self, node_id: str) -> list[Node]:
        return [n for n in self._nodes.values() if n.parent_id == node_id]

    def to_json(self) -> dict[str, Any]:
        """The canvas file's content (Svelte Flow nodes/edges + version)."""
        with self._lock:
            return {
                "version": self.version,
                "nodes": [n.to_json() for n in self._nodes.values()],
                "edges": [e.to_json() for e in self._edges.values()],
            }

    # --- notifications and history ------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, change: GraphChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    def _save(
        self,
        node_ids: tuple[str, ...],
        edge_ids: tuple[str, ...],
        *,
        with_order: bool,
        copy_nodes: bool = True,
    ) -> _Saved:
        """These nodes and edges as they are now. Nodes are copied unless they are about to
        leave the graph, as edits change nodes in place (edges are immutable)."""
        keep = copy.deepcopy if copy_nodes else _same
        return _Saved(
            nodes={node_id: keep(self._nodes.get(node_id)) for node_id in node_ids},
            edges={edge_id: self._edges.get(edge_id) for edge_id in edge_ids},
            node_order=tuple(self._nodes) if with_order else None,
            edge_order=tuple(self._edges) if with_order else None,
        )

    def _restore(self, saved: _Saved) -> None:
        for node_id, node in saved.nodes.items():
            if node is None:
                self._nodes.pop(node_id, None)
            else:
                self._nodes[node_id] = node
        for edge_id, edge in saved.edges.items():
            if edge is None:
                self._edges.pop(edge_id, None)
            else:
                self._edges[edge_id] = edge
        if saved.node_order is not None:
            self._nodes = _in_order(self._nodes, saved.node_order)
        if saved.edge_order is not None:
            self._edges = _in_order(self._edges, saved.edge_order)

    @contextmanager
    def _mutation(self, change: GraphChange) -> Iterator[None]:
        """Apply an edit atomically: on error the graph is unchanged; on success it is
        recorded for undo, marked dirty and announced. The edit touches only the nodes and
        edges ``change`` names: those are what undo puts back."""
        if self._loading:
            yield
            return
        with self._lock:
            removal = change.kind in ("node_removed", "edge_removed")
            before = self._save(change.node_ids, change.edge_ids, with_order=removal)
            try:
                yield
            except BaseException:
                self._restore(before)
                raise
            self._undo.append(before)
            del self._undo[:-HISTORY_LIMIT]
            self._redo.clear()
            self.dirty = True
        self._notify(change)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        """Revert the last edit (Python's or the canvas'); False when there is none."""
        return self._travel(self._undo, self._redo)

    def redo(self) -> bool:
        return self._travel(self._redo, self._undo)

    def _travel(self, source: list[_Saved], target: list[_Saved]) -> bool:
        with self._lock:
            if not source:
                return False
            back = source.pop()
            # What is there now goes on the other stack (those nodes leave the graph: no copy),
            # with the order when putting ``back`` removes some, which the other stack re-inserts.
            removes = any(n is None and i in self._nodes for i, n in back.nodes.items()) or any(
                e is None and i in self._edges for i, e in back.edges.items()
            )
            node_ids, edge_ids = tuple(back.nodes), tuple(back.edges)
            target.append(self._save(node_ids, edge_ids, with_order=removes, copy_nodes=False))
            self._restore(back)
            self.dirty = True
        self._notify(GraphChange("replaced", node_ids, edge_ids))
        return True

    # --- edits ----------------------------------------------------------------------------------

    def _checked_fields(self, node_type: NodeType, fields: dict[str, Any]) -> dict[str, Any]:
        checked = {}
        for name, value in fields.items():
            spec = node_type.field(name)
            if spec is None:
                known = ", ".join(f.name for f in node_type.fields) or "none"
                raise GraphError(
                    "invalid_field",
                    f"{node_type.name} has no field {name!r} (fields: {known})",
                )
            try:
                checked[name] = spec.check(value)
            except ValueError as exc:
                raise GraphError("invalid_field", f"{node_type.name}.{name} {exc}") from None
        return checked

    def claimed_by(
        self, type_name: str, data: dict[str, Any], *, other_than: str | None = None
    ) -> Node | None:
        """The node of ``type_name`` (not ``other_than``) whose unique fields (a Shot's scene
        and shot) have the values ``data`` gives them, if any."""
        unique = self.node_types.get(type_name).unique_fields
        key = tuple(data.get(name) for name in unique)
        for node in self._nodes.values():
            same_type = node.type == type_name and node.id != other_than and unique
            if same_type and tuple(node.data.get(name) for name in unique) == key:
                return node
        return None

    def next_free(
        self, type_name: str, data: dict[str, Any], *, also_taken: frozenset[Any] = frozenset()
    ) -> Any:
        """The value of the last unique field (a Shot's shot number) that makes ``data``
        unique: its default when free, else the next multiple of its step above the highest
        taken with the same other fields (its scene). ``also_taken``: more values taken (the
        render folders of shots no node names)."""
        node_type = self.node_types.get(type_name)
        *same, last = node_type.unique_fields
        spec = node_type.field(last)
        if spec is None:  # (the node type checks its unique_fields are fields)
            raise UnknownNodeType(f"{type_name} has no field {last!r}")
        prefix = tuple(data.get(name) for name in same)
        taken = set(also_taken) | {
            node.data.get(last)
            for node in self._nodes.values()
            if node.type == type_name and tuple(node.data.get(n) for n in same) == prefix
        }
        wanted = data.get(last, spec.default)
        if wanted not in taken:
            return wanted
        step = int(spec.step or 1)
        numbers = [v for v in taken if isinstance(v, int) and not isinstance(v, bool)]
        return (max(numbers, default=0) // step + 1) * step

    def _check_unique(self, node_type: NodeType, node_id: str, data: dict[str, Any]) -> None:
        unique = node_type.unique_fields
        if not unique:
            return
        other = self.claimed_by(node_type.name, data, other_than=node_id)
        if other is None:
            return
        labels = [spec.label for name in unique if (spec := node_type.field(name))]
        said = ", ".join(f"{spec.label} {data.get(spec.name)}" for spec in node_type.fields
                         if spec.name in unique)  # fmt: skip
        free = self.next_free(node_type.name, data)
        raise GraphError(
            "taken",
            f"{said} is taken by node {other.id!r}: two {node_type.label} nodes may not share "
            f"them (they would write into one folder); {labels[-1].lower()} {free} is free",
        )

    def _check_parent(self, node_id: str, parent_id: str | None) -> None:
        if parent_id is None:
            return
        parent = self.node(parent_id)
        if self.node_types.get(parent.type).ui.component != "group":
            raise GraphError("invalid_parent", f"{parent_id!r} is a {parent.type}, not a group")
        ancestor: str | None = parent_id
        while ancestor is not None:
            if ancestor == node_id:
                raise GraphError("invalid_parent", f"{node_id!r} cannot be inside itself")
            ancestor = self._nodes[ancestor].parent_id

    def add_node(
        self,
        type_name: str,
        *,
        position: tuple[float, float] | dict[str, float] | None = None,
        parent_id: str | None = None,
        id: str | None = None,
        **fields: Any,
    ) -> Node:
        """Add a node of a registered type; fields not given take their defaults."""
        node_type = self.node_types.get(type_name)
        node_id = id or new_id(type_name.lower().replace(".", "-"))
        if node_id in self._nodes:
            raise GraphError("duplicate_id", f"a node {node_id!r} already exists")
        outside_defaults: Mapping[str, Any] = {}
        if self.defaults_outside is not None and not self._loading:  # a file is as it is
            given = dict(self.defaults_outside(type_name))
            outside_defaults = self._checked_fields(node_type, given)
        data = {
            **node_type.defaults(),
            **outside_defaults,
            **self._checked_fields(node_type, fields),
        }
        unique = node_type.unique_fields
        if unique and not self._loading:  # a file is taken as it is (an older one may share)
            if unique[-1] not in fields:
                outside = self.taken_outside(type_name, data) if self.taken_outside else None
                data[unique[-1]] = self.next_free(
                    type_name, data, also_taken=outside or frozenset()
                )
            self._check_unique(node_type, node_id, data)
        if position is None:
            n = next(_counter)
            xy = {"x": float(40 + (n % 8) * 60), "y": float(40 + (n % 8) * 40)}
        else:
            xy = finite_xy(position, what=f"{node_id}.position")
        node = Node(id=node_id, type=type_name, position=xy, data=data)
        if node_type.ui.component == "group":
            node.width, node.height = 480.0, 320.0
        with self._mutation(GraphChange("node_added", (node_id,))):
            self._check_parent(node_id, parent_id)
            node.parent_id = parent_id
            self._nodes[node_id] = node
        return node

    _UNSET: Any = object()

    def update_node(
        self,
        node_id: str,
        *,
        position: tuple[float, float] | dict[str, float] | None = None,
        parent_id: Any = _UNSET,
        width: float | None = None,
        height: float | None = None,
        **fields: Any,
    ) -> Node:
        """Change a node's fields (validated), position, size or parent group."""
        node = self.node(node_id)
        checked = self._checked_fields(self.node_types.get(node.type), fields)
        xy = finite_xy(position, what=f"{node_id}.position") if position is not None else None
        size = {
            name: finite_number(value, what=f"{node_id}.{name}")
            for name, value in (("width", width), ("height", height))
            if value is not None
        }
        if any(name in checked for name in self.node_types.get(node.type).unique_fields):
            self._check_unique(self.node_types.get(node.type), node_id, {**node.data, **checked})
        with self._mutation(GraphChange("node_updated", (node_id,))):
            node = self._nodes[node_id]
            node.data.update(checked)
            if xy is not None:
                node.position = xy
            if parent_id is not self._UNSET:
                self._check_parent(node_id, parent_id)
                node.parent_id = parent_id
            node.width = size.get("width", node.width)
            node.height = size.get("height", node.height)
        return self._nodes[node_id]

    def move_nodes(self, positions: dict[str, dict[str, float]]) -> None:
        """Move several nodes in one undoable step (a drag of a selection)."""
        checked = {}
        for node_id, xy in positions.items():
            self.node(node_id)
            checked[node_id] = finite_xy(xy, what=f"{node_id}.position")
        with self._mutation(GraphChange("nodes_moved", tuple(positions))):
            for node_id, xy in checked.items():
                self._nodes[node_id].position = xy

    def remove_node(self, node_id: str) -> None:
        """Remove a node, its edges and (as Svelte Flow does) the nodes inside a group."""
        self.remove_elements(node_ids=[node_id])

    def remove_elements(
        self,
        *,
        node_ids: list[str] | tuple[str, ...] = (),
        edge_ids: list[str] | tuple[str, ...] = (),
    ) -> None:
        """Remove nodes (with their edges and group children) and edges in one undoable step."""
        for node_id in node_ids:
            self.node(node_id)
        for edge_id in edge_ids:
            self._edge(edge_id)
        doomed: set[str] = set()
        pending = list(node_ids)
        while pending:
            current = pending.pop()
            if current not in doomed:
                doomed.add(current)
                pending += [child.id for child in self.children(current)]
        edges = set(edge_ids) | {
            e.id for e in self._edges.values() if e.source in doomed or e.target in doomed
        }
        kind: Literal["node_removed", "edge_removed"] = "node_removed" if doomed else "edge_removed"
        with self._mutation(GraphChange(kind, tuple(sorted(doomed)), tuple(sorted(edges)))):
            for node_id in doomed:
                del self._nodes[node_id]
            for edge_id in edges:
                del self._edges[edge_id]

    def _edge(self, edge_id: str) -> Edge:
        try:
            return self._edges[edge_id]
        except KeyError:
            raise GraphError("unknown_edge", f"no edge {edge_id!r} in the graph") from None

    def check_connection(
        self, source_id: str, source_socket: str, target_id: str, target_socket: str
    ) -> None:
        """Raise :class:`GraphError` unless this edge may be added (the rules in one place)."""
        source_type, target_type = self.node_type(source_id), self.node_type(target_id)
        out = source_type.output(source_socket)
        if out is None:
            names = ", ".join(s.name for s in source_type.outputs) or "none"
            raise GraphError(
                "unknown_socket",
                f"{source_type.name} has no output {source_socket!r} (outputs: {names})",
            )
        into = target_type.input(target_socket)
        if into is None:
            names = ", ".join(s.name for s in target_type.inputs) or "none"
            raise GraphError(
                "unknown_socket",
                f"{target_type.name} has no input {target_socket!r} (inputs: {names})",
            )
        if source_type.pipeline_id is not None and not self._loading:  # (an older canvas)
            raise GraphError(
                "type_mismatch",
                f"a {source_type.label} node does not run on its own, so it has no output to "
                f"give: use a Pipeline node set to {source_type.pipeline_id!r}, connected to a "
                "Shot's Pipeline socket",
            )
        if not sockets_compatible(out.types, into.types):
            raise GraphError(
                "type_mismatch",
                f"cannot connect {source_type.name}.{source_socket} "
                f"({' | '.join(out.types)}) to {target_type.name}.{target_socket} "
                f"({' | '.join(into.types)})",
            )
        existing = [e for e in self.incoming(target_id) if e.target_handle == target_socket]
        if any(e.source == source_id and e.source_handle == source_socket for e in existing):
            raise GraphError("input_occupied", "these sockets are already connected")
        if existing and not into.multiple:
            raise GraphError(
                "input_occupied",
                f"{target_type.name}.{target_socket} takes one connection and already has one",
                hint="disconnect the existing edge first",
            )
        if source_id == target_id or self._reaches(target_id, source_id):
            raise GraphError("cycle", "this connection would make a cycle")

    def _reaches(self, start: str, goal: str) -> bool:
        successors: dict[str, list[str]] = {}
        for edge in self._edges.values():
            successors.setdefault(edge.source, []).append(edge.target)
        seen, pending = set(), [start]
        while pending:
            current = pending.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                pending += successors.get(current, [])
        return False

    def connect(
        self,
        source_id: str,
        source_socket: str,
        target_id: str,
        target_socket: str,
        *,
        id: str | None = None,
    ) -> Edge:
        """Connect an output socket to an input socket (validated)."""
        self.check_connection(source_id, source_socket, target_id, target_socket)
        edge_id = id or new_id("e")
        if edge_id in self._edges:
            raise GraphError("duplicate_id", f"an edge {edge_id!r} already exists")
        edge = Edge(edge_id, source_id, source_socket, target_id, target_socket)
        with self._mutation(GraphChange("edge_added", edge_ids=(edge_id,))):
            self._edges[edge_id] = edge
        return edge

    def disconnect(self, edge_id: str) -> None:
        self.remove_elements(edge_ids=[edge_id])

    # --- files ----------------------------------------------------------------------------------

    def replace_with(self, other: Graph) -> None:
        """Take ``other``'s nodes, edges and version (a reload); clears undo history."""
        with self._lock:
            node_ids = tuple({**self._nodes, **other._nodes})  # what was and what is
            edge_ids = tuple({**self._edges, **other._edges})
            self._nodes, self._edges = other._nodes, other._edges
            self.version = other.version
            self._undo.clear()
            self._redo.clear()
            self.dirty = False
        self._notify(GraphChange("replaced", node_ids, edge_ids))

    def save(self, path: Path | None = None) -> int:
        """Write the canvas file if it is still at this graph's ``version``; it becomes
        ``version + 1``. Otherwise :class:`VersionConflict` and nothing is written."""
        target = path or self.path
        if target is None:
            raise StudioError("this graph has no file; pass save(path=...)")
        with self._lock, FileLock(target.with_name(f".{target.name}.lock")):
            if target.exists():
                on_disk = read_json(target)
                current = on_disk.get("version") if isinstance(on_disk, dict) else None
                if current != self.version:
                    raise VersionConflict(
                        target,
                        expected=self.version,
                        current=current if isinstance(current, int) else -1,
                    )
            content = self.to_json()
            content["version"] = self.version + 1
            atomic_write_bytes(target, dump_json(content, where=target))
            self.version += 1
            self.path = target
            self.dirty = False
        self._notify(GraphChange("saved"))
        return self.version

    @classmethod
    def load(cls, path: Path, *, node_types: NodeTypeRegistry = registry) -> Graph:
        """Read and validate a canvas file; :class:`GraphFileError` says what and where."""
        try:
            data = read_json(path)
        except NumberInFileError as exc:  # NaN or Infinity, as older versions wrote them
            raise GraphFileError(
                path,
                exc.message.split(": ", 1)[-1],
                hint="run `studio repair PROJECT`: it removes such numbers (keeping the "
                "file as it was beside it); or edit the file at the place named",
            ) from None
        except ManifestError as exc:
            raise GraphFileError(path, exc.message.split(": ", 1)[-1]) from None
        return cls.from_json(data, path=path, node_types=node_types)

    @classmethod
    def from_json(
        cls, data: Any, *, path: Path | None = None, node_types: NodeTypeRegistry = registry
    ) -> Graph:
        where = path or Path("<graph>")

        def fail(message: str, field: str | None = None) -> GraphFileError:
            return GraphFileError(where, message, field=field)

        if not isinstance(data, dict):
            raise fail("a canvas file must be a JSON object with nodes, edges and version")
        version = data.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise fail(f"must be a whole number >= 1, not {version!r}", "version")
        nodes, edges = data.get("nodes", []), data.get("edges", [])
        if not isinstance(nodes, list):
            raise fail("must be a list", "nodes")
        if not isinstance(edges, list):
            raise fail("must be a list", "edges")
        graph = cls(path=path, node_types=node_types, version=version)
        graph._loading = True
        # Parents first, so children can be validated against them.
        depths = _depths(nodes)
        ordered = sorted(enumerate(nodes), key=lambda item: depths[item[0]])
        for index, raw in ordered:
            field = f"nodes[{index}]"
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                raise fail("must be an object with a string id", field)
            position = raw.get("position", {"x": 0, "y": 0})
            if not (
                isinstance(position, dict)
                and all(isinstance(position.get(k), int | float) for k in ("x", "y"))
            ):
                raise fail("position must be {x: number, y: number}", f"{field}.position")
            for key in ("x", "y"):
                if not _is_finite(position[key]):
                    raise fail("must be a finite number", f"{field}.position.{key}")
            for key in ("width", "height"):
                if raw.get(key) is not None and not _is_finite(raw[key]):
                    raise fail("must be a finite number", f"{field}.{key}")
            data_fields = raw.get("data", {})
            if not isinstance(data_fields, dict):
                raise fail("must be an object", f"{field}.data")
            try:
                node_type = node_types.get(str(raw.get("type")))
                known = {k: v for k, v in data_fields.items() if node_type.field(k) is not None}
                node = graph.add_node(
                    node_type.name,
                    id=raw["id"],
                    position=position,
                    parent_id=raw.get("parentId"),
                    **known,
                )
                # Keys the type does not declare are kept (written by a newer studio or a user).
                node.data.update({k: v for k, v in data_fields.items() if k not in known})
                node.width = raw.get("width", node.width)
                node.height = raw.get("height", node.height)
            except UnknownNodeType as exc:
                raise fail(f"{exc.message} ({exc.hint})", f"{field}.type") from None
            except GraphError as exc:
                raise fail(exc.message, field) from None
        for index, raw in enumerate(edges):
            field = f"edges[{index}]"
            keys = ("source", "sourceHandle", "target", "targetHandle")
            if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in keys):
                raise fail(f"must be an object with string {', '.join(keys)}", field)
            try:
                graph.connect(
                    raw["source"], raw["sourceHandle"], raw["target"], raw["targetHandle"],
                    id=raw.get("id") if isinstance(raw.get("id"), str) else None,
                )  # fmt: skip
            except GraphError as exc:
                raise fail(exc.message, field) from None
        graph._loading = False
        graph.dirty = False
        return graph

    def __repr__(self) -> str:
        return f"<Graph v{self.version}: {len(self._nodes)} nodes, {len(self._edges)} edges>"


_Item = TypeVar("_Item")


def _same(item: _Item) -> _Item:
    return item


def _in_order(items: dict[str, _Item], order: tuple[str, ...]) -> dict[str, _Item]:
    """``items`` in ``order`` (any not in it last)."""
    ordered = {key: items[key] for key in order if key in items}
    return {**ordered, **items}


def _is_finite(value: Any) -> bool:
    try:
        finite_number(value, what="value")
    except GraphError:
        return False
    return True


def _depths(nodes: list[Any]) -> dict[int, int]:
    """How deep each raw node is nested (0 at top level), by index; a parent cycle counts as
    0 here and is reported when the child is added."""
    by_id = {n["id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)}
    depths = {}
    for index, raw in enumerate(nodes):
        depth, seen = 0, set()
        current = raw if isinstance(raw, dict) else {}
        while isinstance(current.get("parentId"), str) and current["parentId"] in by_id:
            if current["parentId"] in seen:
                depth = 0
                break
            seen.add(current["parentId"])
            current = by_id[current["parentId"]]
            depth += 1
        depths[index] = depth
    return depths
