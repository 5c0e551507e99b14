"""The one event vocabulary (PRD Table 6 + ``server:notification``), shared by the canvas
widget's comm, the server's WebSocket and the job log.

A message is ``{"event": NAME, "payload": {...}}``. ``widgets/src/events.ts`` is generated
from this module (``python -m studio.events``) and a test keeps the two identical.

Besides Table 6, the canvas sends the structural edits it makes (add, move, connect, remove,
save, undo, redo) as ``client:*`` events, so every edit goes through the Python ``Graph``; and
the canvas widget gets each change of the graph as a ``server:graph_patch`` (the whole graph
only in ``server:full_sync``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from studio.documents import FiniteJSON
from studio.errors import StudioError

NodeState = Literal["idle", "queued", "generating", "success", "failed", "canceled"]
NotificationLevel = Literal["info", "warning", "error"]


class _Payload(BaseModel):
    # NaN and Infinity are refused: every number here may end up in a JSON file or a browser.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class XY(_Payload):
    x: float
    y: float


# --- client -> server ------------------------------------------------------------------------


class UpdateNodeData(_Payload):
    node_id: str
    data: FiniteJSON


class StartGeneration(_Payload):
    node_id: str


class SyncRequest(_Payload):
    pass


class AddNode(_Payload):
    type: str
    position: XY
    id: str | None = None
    parent_id: str | None = None
    data: FiniteJSON = Field(default_factory=dict)


class MoveNodes(_Payload):
    positions: dict[str, XY]


class RemoveElements(_Payload):
    node_ids: list[str] = Field(default_factory=list)
    edge_ids: list[str] = Field(default_factory=list)


class Connect(_Payload):
    source: str
    source_handle: str
    target: str
    target_handle: str
    id: str | None = None


class Save(_Payload):
    pass


class Undo(_Payload):
    pass


class Redo(_Payload):
    pass


class CancelGeneration(_Payload):
    node_id: str


class RenderFinalSequence(_Payload):
    node_id: str


class UpdateProjectSettings(_Payload):
    """Change the project's settings (``project.json``, under its optimistic lock); the next
    takes follow them. Fields left out stay as they are."""

    title: str | None = None
    description: str | None = None
    quality: str | None = None
    aspect_ratio: str | None = None
    frame_rate: str | None = None


# --- server -> client ------------------------------------------------------------------------


class NodeStateUpdated(_Payload):
    node_id: str
    state: NodeState
    task_id: str | None = None
    step: str | None = None
    """What a queued job waits for (e.g. a render waiting for its post steps)."""


class TaskProgress(_Payload):
    task_id: str
    node_id: str
    progress: float = Field(ge=0, le=100)
    step: str = ""


class TaskResult(_Payload):
    model_config = ConfigDict(extra="allow")

    output_url: str
    take: str | None = None
    thumbnail: str | None = None
    """The take's thumbnail, a file of the project made once by whoever wrote the take."""
    thumbnail_url: str | None = None
    """The same thumbnail as this front end's clients load it (set by the studio service)."""


class RenderResult(TaskResult):
    """What an Assembler's render job (``render_final_video``) succeeds with: the export and
    the edit's interchange files, as paths relative to the project."""

    edl: str | None = None
    """The CMX 3600 EDL (``04_Project_Files/EDLs/<title>_v###.edl``)."""
    otio: str | None = None
    fcp_xml: str | None = None
    video_url: str | None = None
    """The film (``output_url``) as this front end's clients load it, set by the studio
    service where the front end serves it; otherwise the client links the file itself."""
    edl_url: str | None = None
    otio_url: str | None = None
    fcp_xml_url: str | None = None


RESULT_TYPES: Final[dict[str, type[_Payload]]] = {"RenderResult": RenderResult}
"""Result shapes the front end reads from a node's status (besides :class:`TaskResult`)."""


class TaskSuccess(_Payload):
    task_id: str
    node_id: str
    result: TaskResult


class TaskFailed(_Payload):
    task_id: str | None = None
    node_id: str
    error: str
    code: str | None = None


class FullSync(_Payload):
    graph: dict[str, Any]
    node_status: dict[str, Any] = Field(default_factory=dict)
    seq: int | None = Field(default=None, ge=0)
    """The canvas' patch number this graph is at: ``server:graph_patch`` continues from it.
    When absent, the canvas widget's ``graph_seq`` trait, set just before, says it."""


class GraphPatch(_Payload):
    """One change of the canvas' graph: the nodes and edges added or updated, whole (as the
    canvas file holds them), and the ids of those removed. Patch ``seq`` applies to the graph
    at patch ``seq - 1`` whose version is ``base_version``; a receiver holding anything else
    missed a patch, drops this one and asks for the whole graph (``client:sync_request``)."""

    seq: int = Field(ge=1)
    base_version: int
    version: int
    nodes: list[dict[str, Any]] = Field(default_factory=list)
    removed_nodes: list[str] = Field(default_factory=list)
    edges: list[dict[str, Any]] = Field(default_factory=list)
    removed_edges: list[str] = Field(default_factory=list)


class Notification(_Payload):
    level: NotificationLevel = "info"
    message: str
    node_id: str | None = None


CLIENT_EVENTS: dict[str, type[_Payload]] = {
    "client:update_node_data": UpdateNodeData,
    "client:start_generation": StartGeneration,
    "client:cancel_generation": CancelGeneration,
    "client:render_final_sequence": RenderFinalSequence,
    "client:sync_request": SyncRequest,
    "client:add_node": AddNode,
    "client:move_nodes": MoveNodes,
    "client:remove_elements": RemoveElements,
    "client:connect": Connect,
    "client:save": Save,
    "client:undo": Undo,
    "client:redo": Redo,
    "client:update_project_settings": UpdateProjectSettings,
}
SERVER_EVENTS: dict[str, type[_Payload]] = {
    "server:node_state_updated": NodeStateUpdated,
    "server:task_progress": TaskProgress,
    "server:task_success": TaskSuccess,
    "server:task_failed": TaskFailed,
    "server:full_sync": FullSync,
    "server:graph_patch": GraphPatch,
    "server:notification": Notification,
}
EVENTS: dict[str, type[_Payload]] = {**CLIENT_EVENTS, **SERVER_EVENTS}


class EventError(StudioError):
    """A message that is not a valid event (unknown name or wrong payload)."""


def parse_event(message: Any) -> tuple[str, _Payload]:
    """Validate ``{"event": NAME, "payload": {...}}``; :class:`EventError` says what is wrong."""
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        raise EventError('an event must be an object {"event": NAME, "payload": {...}}')
    name = message["event"]
    model = EVENTS.get(name)
    if model is None:
        raise EventError(f"unknown event {name!r}", hint=f"known events: {', '.join(EVENTS)}")
    try:
        return name, model.model_validate(message.get("payload", {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EventError(f"{name}: payload.{where}: {first['msg']}") from None


def make_event(name: str, **payload: Any) -> dict[str, Any]:
    """Build a validated message (raises :class:`EventError` if the payload is wrong)."""
    _, model = parse_event({"event": name, "payload": payload})
    return {"event": name, "payload": model.model_dump(mode="json", exclude_none=True)}


# --- the status of a job, and of the node it runs on, folded from server events (pure) -----

TERMINAL_STATES: Final = frozenset({"success", "failed", "canceled"})
CANCELED_CODE: Final = "CANCELED"
"""The error code of a canceled job (``studio.runner.contract.ErrorCode.CANCELED``; a test
keeps them equal: this vocabulary sits below the runner and imports none of it)."""
STATUS_EVENTS: Final = frozenset(
    {
        "server:node_state_updated",
        "server:task_progress",
        "server:task_success",
        "server:task_failed",
    }
)
"""The server events that change the status of a job and of its node."""


def fold_status(status: Mapping[str, Any], name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Pure, the one reducer of the event stream: a job's status after one more of its server
    events. ``payload`` is in wire form (validated, as :func:`make_event` and the job log have
    it). A node shows this same status folded over the events of the jobs run on it, so keys
    the events do not set (the takes a canvas adds) are kept. Events outside
    :data:`STATUS_EVENTS` change nothing."""
    current = dict(status)
    if name == "server:task_progress":  # the most frequent by far: tested first
        current["state"] = "generating"
        current["task_id"] = payload["task_id"]
        current["progress"] = payload["progress"]
        current["step"] = payload.get("step", "")
    elif name == "server:node_state_updated":
        state = current["state"] = payload["state"]
        if payload.get("task_id"):
            current["task_id"] = payload["task_id"]
        if state in ("queued", "generating"):  # a (new) start: earlier error and progress go
            current.pop("error", None)
            current["progress"], current["step"] = 0, payload.get("step") or ""
    elif name == "server:task_success":
        current["state"], current["task_id"] = "success", payload["task_id"]
        current["progress"], current["step"] = 100, ""
        # The thumbnail's file is for front ends to link (thumbnail_url), not node status.
        current.update({k: v for k, v in payload["result"].items() if k != "thumbnail"})
        current.pop("error", None)
    elif name == "server:task_failed":
        # A cancel is reported twice: this failure (code CANCELED), then the state "canceled".
        # In whichever order they come, the job ends canceled.
        confirmed = current.get("state") == "canceled" and payload.get("code") == CANCELED_CODE
        current["state"] = "canceled" if confirmed else "failed"
        current["error"], current["step"] = payload["error"], ""
        if payload.get("code"):
            current["code"] = payload["code"]
    return current


def is_final(state: str | None, code: str | None) -> bool:
    """Pure: whether a job in ``state`` (with error ``code``) has ended for good. A failure
    with code CANCELED has not yet: the state "canceled" follows it."""
    if state == "failed" and code == CANCELED_CODE:
        return False
    return state in TERMINAL_STATES


def status_node(name: str, payload: Mapping[str, Any]) -> str | None:
    """The node whose status a server event (wire form) changes, if any."""
    node_id = payload.get("node_id")
    return node_id if name in STATUS_EVENTS and isinstance(node_id, str) else None


def apply_event(status: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """The new per-node status after a server event (the widget renders this): the node's
    entry folded by :func:`fold_status`. Raises :class:`EventError` for an invalid message."""
    name, model = parse_event(message)
    payload = model.model_dump(mode="json", exclude_none=True)
    node_id = status_node(name, payload)
    if node_id is None:
        return status
    return {**status, node_id: fold_status(status.get(node_id, {}), name, payload)}


# --- TypeScript ------------------------------------------------------------------------------


def ts_type(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A pydantic JSON schema as a TypeScript type (``defs``: the schema's ``$defs``)."""
    if "$ref" in schema:
        return ts_type(defs[schema["$ref"].split("/")[-1]], defs)
    if "anyOf" in schema:
        return " | ".join(ts_type(s, defs) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", []))
        fields = "; ".join(
            f"{name}{'' if name in required else '?'}: {ts_type(sub, defs)}"
            for name, sub in schema["properties"].items()
        )
        return "{ " + fields + (" }" if fields else "}")
    if kind == "object":
        values = schema.get("additionalProperties")
        inner = ts_type(values, defs) if isinstance(values, dict) and values else "unknown"
        return f"Record<string, {inner}>"
    if kind == "array":
        return f"{ts_type(schema.get('items', {}), defs)}[]"
    return {"string": "string", "number": "number", "integer": "number", "boolean": "boolean",
            "null": "null"}.get(str(kind), "unknown")  # fmt: skip


def typescript_module() -> str:
    """``widgets/src/events.ts``: event names and payload types, generated from this module."""
    lines = [
        "// Generated by `python -m studio.events` from studio/events.py. Do not edit.",
        "",
    ]
    for name, model in EVENTS.items():
        schema = model.model_json_schema()
        type_name = "".join(part.title() for part in name.replace(":", "_").split("_"))
        lines.append(f"export type {type_name} = {ts_type(schema, schema.get('$defs', {}))};")
    for type_name, model in RESULT_TYPES.items():
        schema = model.model_json_schema()
        lines.append(f"export type {type_name} = {ts_type(schema, schema.get('$defs', {}))};")
    lines.append("")
    lines.append("export interface EventPayloads {")
    for name in EVENTS:
        type_name = "".join(part.title() for part in name.replace(":", "_").split("_"))
        lines.append(f'  "{name}": {type_name};')
    lines.append("}")
    lines.append("")
    lines.append("export type EventName = keyof EventPayloads;")
    lines.append(f"export const CLIENT_EVENTS = {json.dumps(list(CLIENT_EVENTS))} as const;")
    lines.append(f"export const SERVER_EVENTS = {json.dumps(list(SERVER_EVENTS))} as const;")
    status_events = [name for name in SERVER_EVENTS if name in STATUS_EVENTS]
    lines.append("/** The server events that change the status of a job and of its node. */")
    lines.append(
        f"export const STATUS_EVENTS: ReadonlySet<string> = new Set({json.dumps(status_events)});"
    )
    lines.append("")
    lines.append("export interface Message<N extends EventName = EventName> {")
    lines.append("  event: N;")
    lines.append("  payload: EventPayloads[N];")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(typescript_module())
