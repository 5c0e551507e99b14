// Graph patches from Python (`server:graph_patch`, studio/graph/patches.py): pure application.
import type { ServerGraphPatch } from "../events";
import type { GraphEdge, GraphJSON, GraphNode } from "./types";

/** Whether `patch` follows a local graph that is at patch `seq`: exactly the next one, made for
 * the same graph version. Anything else means a patch was lost or came out of order. */
export function patchFollows(graph: GraphJSON, seq: number, patch: ServerGraphPatch): boolean {
  return patch.seq === seq + 1 && patch.base_version === graph.version;
}

/** `graph` after `patch` (as apply_patch in Python): each node and edge it sets replaces the one
 * with its id, in place, or is appended; the removed ones are dropped. Untouched nodes and edges
 * stay the very same objects, which tells the canvas what it need not redraw. */
export function applyPatch(graph: GraphJSON, patch: ServerGraphPatch): GraphJSON {
  return {
    version: patch.version,
    nodes: patched(graph.nodes, patchedNodes(patch), patch.removed_nodes),
    edges: patched(graph.edges, (patch.edges ?? []) as unknown as GraphEdge[], patch.removed_edges),
  };
}

/** The nodes `patch` adds or updates (whole, as the graph holds them). */
export function patchedNodes(patch: ServerGraphPatch): GraphNode[] {
  return (patch.nodes ?? []) as unknown as GraphNode[];
}

function patched<T extends { id: string }>(items: T[], set: T[] = [], removed: string[] = []): T[] {
  if (!set.length && !removed.length) return items;
  const byId = new Map(set.map((item) => [item.id, item]));
  const gone = new Set(removed);
  const kept: T[] = [];
  for (const item of items) {
    if (gone.has(item.id)) continue;
    const replacement = byId.get(item.id);
    byId.delete(item.id);
    kept.push(replacement ?? item);
  }
  return [...kept, ...byId.values()];
}
