"""Graph patches: one change of a ``Graph`` as the nodes and edges to set and the ids to drop,
so a copy of the graph (the canvas in the browser) follows it without the whole graph.

A patch is built from the :class:`~studio.graph.graph.GraphChange` the graph announces, which
names exactly the nodes and edges that changed: the patch, and the work of building it, follow
the size of the change, never the size of the graph. Patches are numbered; patch ``seq`` applies
to a copy at ``seq - 1`` whose version is the patch's ``base_version`` (see
:class:`studio.events.GraphPatch`). :func:`apply_patch` is what a receiver does with one (the
canvas front end does the same in ``widgets/src/lib/patches.ts``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from studio.events import GraphPatch
from studio.graph.graph import Graph, GraphChange


def build_patch(graph: Graph, change: GraphChange, *, seq: int, base_version: int) -> GraphPatch:
    """The patch that brings a copy of ``graph`` at ``base_version`` up to date with ``change``:
    each node and edge it names, read now (whole), or its id among the removed when it is gone.
    Read now, a patch may already hold a later change to the same elements; applying patches in
    order still ends on the graph (setting and dropping are idempotent)."""
    nodes: list[dict[str, Any]] = []
    removed_nodes: list[str] = []
    edges: list[dict[str, Any]] = []
    removed_edges: list[str] = []
    with graph.locked():
        for node_id in change.node_ids:
            node = graph.find_node(node_id)
            if node is None:
                removed_nodes.append(node_id)
            else:
                nodes.append(node.to_json())
        for edge_id in change.edge_ids:
            edge = graph.find_edge(edge_id)
            if edge is None:
                removed_edges.append(edge_id)
            else:
                edges.append(edge.to_json())
        version = graph.version
    return GraphPatch(
        seq=seq,
        base_version=base_version,
        version=version,
        nodes=nodes,
        removed_nodes=removed_nodes,
        edges=edges,
        removed_edges=removed_edges,
    )


class PatchMismatch(ValueError):
    """The patch was made for another version of the graph than the copy at hand."""


def apply_patch(graph_json: dict[str, Any], patch: GraphPatch) -> dict[str, Any]:
    """``graph_json`` (the canvas file's shape) after ``patch``: each node and edge it sets
    replaces the one with its id, in place, or is appended; the removed ones are dropped.
    :class:`PatchMismatch` when the copy is not at the patch's ``base_version``."""
    if graph_json["version"] != patch.base_version:
        at = graph_json["version"]
        raise PatchMismatch(f"the patch is for version {patch.base_version}, the graph is at {at}")
    return {
        **graph_json,
        "version": patch.version,
        "nodes": _patched(graph_json["nodes"], patch.nodes, patch.removed_nodes),
        "edges": _patched(graph_json["edges"], patch.edges, patch.removed_edges),
    }


def _patched(
    items: list[dict[str, Any]], updated: list[dict[str, Any]], removed: Iterable[str]
) -> list[dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {item["id"]: item for item in updated}
    gone = set(removed)
    kept = [by_id.pop(item["id"], item) for item in items if item["id"] not in gone]
    return kept + list(by_id.values())
