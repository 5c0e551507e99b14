"""The canvas' structural client events (add, move, remove, connect) applied to a Graph: one
place for the widget's comm and the server's WebSocket."""

from __future__ import annotations

from typing import Any, TypeGuard

from studio.events import AddNode, Connect, MoveNodes, RemoveElements
from studio.graph.graph import Graph

StructuralEdit = AddNode | MoveNodes | RemoveElements | Connect


def is_structural_edit(payload: Any) -> TypeGuard[StructuralEdit]:
    return isinstance(payload, AddNode | MoveNodes | RemoveElements | Connect)


def apply_structural_edit(graph: Graph, payload: StructuralEdit) -> None:
    """Apply one structural event to ``graph`` (validation errors raise, nothing changes)."""
    if isinstance(payload, AddNode):
        graph.add_node(
            payload.type,
            id=payload.id,
            position=payload.position.model_dump(),
            parent_id=payload.parent_id,
            **payload.data,
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
