"""The node-type registry: each node type declares its sockets, editable fields and UI hints.

One registry (``registry``) serves Python, the canvas widget (which receives
``registry.as_json()`` and re-renders its palette on every change) and the server extension.
Node types can be added at run time, e.g. one per pipeline manifest.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from studio.errors import StudioError
from studio.graph.sockets import SOCKET_COLORS, SocketType
from studio.numbers import is_safe_integer, unsafe_integer_message

FieldKind = Literal[
    "text",
    "textarea",
    "integer",
    "float",
    "boolean",
    "choice",
    "slider",
    "file",
    "take",
    "pipeline",
    "order",
    "settings",
]
"""``order``: an ordered list of node ids (the Assembler's clips, drag to reorder);
``settings``: node id -> that node's settings object (the Assembler's per-clip trims). Both
are edited by the node's own component; their content is checked where it is used."""
Component = Literal[
    "shot", "asset", "pipeline", "group", "motion", "audio", "upscale", "restore", "assembler",
    "edl", "generic",
]  # fmt: skip
"""The canvas component that draws the node (widgets/src/nodes/<Component>/)."""
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


class UnknownNodeType(StudioError):
    pass


class SocketSpec(BaseModel):
    """One input or output. ``types`` lists what it carries (``Image | Video`` for an
    upscaler); an input with ``multiple`` accepts several edges (in order)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=_NAME.pattern)
    label: str
    types: tuple[SocketType, ...] = Field(min_length=1)
    multiple: bool = False
    required: bool = False


class FieldSpec(BaseModel):
    """An editable property of a node (kept in the node's ``data``)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=_NAME.pattern)
    label: str
    kind: FieldKind
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None
    help: str = ""

    def check(self, value: Any) -> Any:
        """``value`` if acceptable for this field, else ``ValueError`` saying why."""
        if value is None:
            return None
        kind = self.kind
        if kind == "order":
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"expects a list of node ids, not {value!r}")
            if len(set(value)) != len(value):
                raise ValueError(f"lists a node twice: {list(value)!r}")
            return list(value)
        if kind == "settings":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, dict) for k, v in value.items()
            ):
                raise ValueError(f"expects {{node id: {{setting: value}}}}, not {value!r}")
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise ValueError(f"expects true or false, not {value!r}")
            return value
        if kind in ("integer", "float", "slider"):
            ok_types = (int,) if kind == "integer" else (int, float)
            if isinstance(value, bool) or not isinstance(value, ok_types):
                raise ValueError(
                    f"expects a {'whole ' if kind == 'integer' else ''}number, not {value!r}"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"expects a finite number, not {value!r}")
            if isinstance(value, int) and not is_safe_integer(value):
                raise ValueError(unsafe_integer_message(value))
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"must be at least {self.minimum}, not {value}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"must be at most {self.maximum}, not {value}")
            return value
        if not isinstance(value, str):
            raise ValueError(f"expects text, not {value!r}")
        if kind == "choice" and self.choices is not None and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}, not {value!r}")
        return value


class PalettePreset(BaseModel):
    """What a palette entry adds instead of a node of its own type: a node of ``node_type``
    with ``data`` set (a pipeline's entry: the Pipeline node choosing it, or the post node
    that runs it)."""

    model_config = ConfigDict(frozen=True)

    node_type: str = Field(pattern=_NAME.pattern)
    data: dict[str, Any] = Field(default_factory=dict)


class NodeUI(BaseModel):
    """How the canvas draws the node: which Svelte component, colour, icon, palette group."""

    model_config = ConfigDict(frozen=True)

    component: Component = "generic"
    color: str = "#4a5568"
    icon: str = "◆"
    category: str = "Nodes"
    draft: bool = False
    """Labelled as a draft wherever shown (the built-in CPU pipelines)."""
    preset: PalettePreset | None = None
    """The palette entry adds this instead (a node type that cannot run on its own)."""


class NodeType(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=_NAME.pattern)
    label: str
    description: str = ""
    inputs: tuple[SocketSpec, ...] = ()
    outputs: tuple[SocketSpec, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    ui: NodeUI = Field(default_factory=NodeUI)
    pipeline_id: str | None = None
    """Set for node types generated from a pipeline manifest."""
    unique_fields: tuple[str, ...] = ()
    """Two nodes of this type may not share these fields' values (a Shot's scene and shot
    name its render folder); a node added without the last one gets the next free value."""

    @model_validator(mode="after")
    def _unique_names(self) -> NodeType:
        for group, items in (
            ("input", self.inputs),
            ("output", self.outputs),
            ("field", self.fields),
        ):
            names = [item.name for item in items]
            if len(set(names)) != len(names):
                raise ValueError(f"node type {self.name}: duplicate {group} names in {names}")
        unknown = [name for name in self.unique_fields if self.field(name) is None]
        if unknown:
            raise ValueError(f"node type {self.name}: unique_fields {unknown} are not fields")
        return self

    def input(self, name: str) -> SocketSpec | None:
        return next((s for s in self.inputs if s.name == name), None)

    def output(self, name: str) -> SocketSpec | None:
        return next((s for s in self.outputs if s.name == name), None)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.fields}


Listener = Callable[[], None]


class NodeTypeRegistry:
    """Thread-safe name -> NodeType map with change notifications."""

    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()

    def register(self, node_type: NodeType, *, replace: bool = False) -> NodeType:
        """Add a node type; re-registering a name needs ``replace=True`` (a pipeline update)."""
        with self._lock:
            existing = self._types.get(node_type.name)
            if existing is not None and existing != node_type and not replace:
                raise StudioError(
                    f"node type {node_type.name!r} is already registered",
                    hint="pass replace=True to update it",
                )
            self._types[node_type.name] = node_type
            listeners = list(self._listeners)
        if existing != node_type:
            for listener in listeners:
                listener()
        return node_type

    def unregister(self, name: str) -> None:
        with self._lock:
            removed = self._types.pop(name, None)
            listeners = list(self._listeners)
        if removed is not None:
            for listener in listeners:
                listener()

    def get(self, name: str) -> NodeType:
        try:
            return self._types[name]
        except KeyError:
            known = ", ".join(sorted(self._types))
            raise UnknownNodeType(
                f"unknown node type {name!r}", hint=f"registered types: {known}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener()`` after every change; returns an unsubscribe function."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def as_json(self) -> dict[str, Any]:
        """Everything the canvas needs: node types, socket colours."""
        with self._lock:
            types = [t.model_dump(mode="json") for t in self._types.values()]
        return {
            "node_types": sorted(types, key=lambda t: (t["ui"]["category"], t["label"])),
            "socket_colors": {k.value: v for k, v in SOCKET_COLORS.items()},
        }


registry = NodeTypeRegistry()
"""The studio's one registry. Built-in types are added by :mod:`studio.graph.builtin_types`."""
