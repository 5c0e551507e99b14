"""The canvas' client edits applied to a Graph (structural: add, move, remove, connect; and
``client:update_node_data``, which may also choose a shot's active take): one place for the
widget's comm and the server's WebSocket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from studio.errors import InvalidInput, TakeError
from studio.events import AddNode, Connect, MoveNodes, RemoveElements
from studio.graph.builtin_types import SHOT
from studio.graph.graph import Graph

if TYPE_CHECKING:
    from studio.project.project import Project
    from studio.project.takes import Take

StructuralEdit = AddNode | MoveNodes | RemoveElements | Connect


def is_structural_edit(payload: Any) -> TypeGuard[StructuralEdit]:
    return isinstance(payload, AddNode | MoveNodes | RemoveElements | Connect)


def apply_structural_edit(
    graph: Graph, payload: StructuralEdit, *, project: Project | None = None
) -> None:
    """Apply one structural event to ``graph`` (validation errors raise, nothing changes). A
    new Shot of a project gets a shot number that neither another node nor a render folder
    of the project has (a graph that is not the project's own knows only its nodes); a new
    Assembler the project's frame rate."""
    if isinstance(payload, AddNode):
        data = dict(payload.data)
        foreign = graph.taken_outside is None  # (a project's own graph knows its folders)
        if payload.type == SHOT and "shot" not in data and project is not None and foreign:
            data["shot"] = _free_shot(graph, project, data)
        if project is not None and graph.defaults_outside is None:
            data = {**project.node_defaults(payload.type), **data}
        graph.add_node(
            payload.type,
            id=payload.id,
            position=payload.position.model_dump(),
            parent_id=payload.parent_id,
            **data,
        )
    elif isinstance(payload, MoveNodes):
        graph.move_nodes({k: v.model_dump() for k, v in payload.positions.items()})
    elif isinstance(payload, RemoveElements):
        graph.remove_elements(node_ids=payload.node_ids, edge_ids=payload.edge_ids)
    else:
        graph.connect(
            payload.source, payload.source_handle, payload.target, payload.target_handle,
            id=payload.id,
        )  # fmt: skip


def _free_shot(graph: Graph, project: Project, data: dict[str, Any]) -> Any:
    wanted = {**graph.node_types.get(SHOT).defaults(), **data}
    folders = frozenset(shot for scene, shot in project.shots() if scene == wanted.get("scene"))
    return graph.next_free(SHOT, wanted, also_taken=folders)


def update_node_data(
    graph: Graph, node_id: str, data: dict[str, Any], *, project: Project | None
) -> Take | None:
    """``client:update_node_data``: set the node's fields. When ``data`` names an
    ``active_take`` and the graph is a project's, that take (a ready take of the node's shot)
    also becomes the shot's active take, persisted in the shot folder (what
    ``project.active_take`` and every client's ``full_sync`` report). Everything is checked
    before anything changes. ``take_pinned`` pins (or unpins) that take, or the active one:
    a pinned take stays active when new takes arrive. Returns the take made active, if any."""
    take = None
    name = data.get("active_take")
    pin = data.get("take_pinned")
    if project is not None and (name or pin is not None):
        merged = {**graph.node(node_id).data, **data}
        if not name:  # pinning (or unpinning) the take active now
            name = _active_name(project, merged)
        take = _shot_take(project, merged, name) if name else None
        if take is None and pin:
            raise TakeError(f"node {node_id!r} has no take to pin yet: generate one first")
    graph.update_node(node_id, **data)
    if project is not None and take is not None:
        if pin is None:  # another take chosen: pinned if the one before was
            pin = project.shot_view(scene=take.scene, shot=take.shot).pinned
        project.set_active_take(take, pinned=bool(pin))
    return take


def _active_name(project: Project, data: dict[str, Any]) -> str | None:
    try:
        active = project.active_take(scene=int(data["scene"]), shot=int(data["shot"]))
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("only a Shot node with a scene and shot number has takes") from None
    return active.name if active else None


def _shot_take(project: Project, data: dict[str, Any], name: Any) -> Take:
    try:
        scene, shot = int(data["scene"]), int(data["shot"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("only a Shot node with a scene and shot number has takes") from None
    for take in project.takes(scene=scene, shot=shot):
        if take.name == name:
            project.check_active_take(take)  # fail before the graph changes
            return take
    raise TakeError(f"{name} is not a take of scene {scene}, shot {shot}")
