// Pure conversions between the studio graph and Svelte Flow, and the connection rules the
// canvas enforces visually (the same table Python validates with).
import type { Connection, Edge, Node } from "@xyflow/svelte";
import { COMPONENTS } from "./nodeTypes";
import type { GraphEdge, GraphJSON, NodeTypeSpec, NodeTypesPayload } from "./types";

export interface FlowNodeData extends Record<string, unknown> {
  nodeType: string;
  fields: Record<string, unknown>;
}

export type FlowNode = Node<FlowNodeData>;

export function newId(prefix: string): string {
  const random = Math.random().toString(16).slice(2, 10).padEnd(8, "0");
  return `${prefix.toLowerCase().replace(/\./g, "-")}-${random}`;
}

/** Graph nodes as Svelte Flow nodes, keeping selection and measurements of `previous`. */
export function toFlowNodes(
  graph: GraphJSON,
  types: NodeTypesPayload,
  previous: FlowNode[],
): FlowNode[] {
  const before = new Map(previous.map((n) => [n.id, n]));
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const component = new Map(types.node_types.map((t) => [t.name, t.ui.component]));
  const collapsed = (id: string | undefined): boolean => {
    for (let current = id; current; current = byId.get(current)?.parentId) {
      if (byId.get(current)?.data.collapsed === true) return true;
    }
    return false;
  };
  // Svelte Flow wants parents before their children.
  const depth = (id: string): number => {
    let d = 0;
    for (let p = byId.get(id)?.parentId; p && d < 64; p = byId.get(p)?.parentId) d++;
    return d;
  };
  return [...graph.nodes]
    .sort((a, b) => depth(a.id) - depth(b.id))
    .map((node) => {
      const old = before.get(node.id);
      const kind = component.get(node.type) ?? "generic";
      const isGroupCollapsed = kind === "group" && node.data.collapsed === true;
      const flow: FlowNode = {
        id: node.id,
        type: COMPONENTS.includes(kind) ? kind : "generic",
        position: { ...node.position },
        data: { nodeType: node.type, fields: node.data },
        selected: old?.selected ?? false,
        hidden: collapsed(node.parentId),
      };
      if (old?.measured) flow.measured = old.measured;
      if (node.parentId) {
        flow.parentId = node.parentId;
        flow.extent = "parent";
      }
      if (kind === "group") {
        flow.width = isGroupCollapsed ? 240 : (node.width ?? 480);
        flow.height = isGroupCollapsed ? 56 : (node.height ?? 320);
        flow.zIndex = -1;
      }
      return flow;
    });
}

export function toFlowEdges(graph: GraphJSON, previous: Edge[]): Edge[] {
  const before = new Map(previous.map((e) => [e.id, e]));
  return graph.edges.map((edge: GraphEdge) => ({
    id: edge.id,
    source: edge.source,
    sourceHandle: edge.sourceHandle,
    target: edge.target,
    targetHandle: edge.targetHandle,
    selected: before.get(edge.id)?.selected ?? false,
  }));
}

function reaches(edges: GraphEdge[], from: string, goal: string): boolean {
  const seen = new Set<string>();
  const pending = [from];
  while (pending.length) {
    const current = pending.pop() as string;
    if (current === goal) return true;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const e of edges) if (e.source === current) pending.push(e.target);
  }
  return false;
}

/** Why a connection is refused, or null when it is allowed (mirrors Graph.check_connection). */
export function connectionProblem(
  connection: Connection | Edge,
  graph: GraphJSON,
  types: NodeTypesPayload,
): string | null {
  const { source, target } = connection;
  const sourceHandle = connection.sourceHandle ?? "";
  const targetHandle = connection.targetHandle ?? "";
  const typeOf = (id: string): NodeTypeSpec | undefined => {
    const node = graph.nodes.find((n) => n.id === id);
    return node ? types.node_types.find((t) => t.name === node.type) : undefined;
  };
  const out = typeOf(source)?.outputs.find((s) => s.name === sourceHandle);
  const into = typeOf(target)?.inputs.find((s) => s.name === targetHandle);
  if (!out || !into) return "unknown socket";
  const feeds = out.types.some((s) => into.types.some((t) => types.compatibility[s]?.includes(t)));
  if (!feeds) return `${out.types.join(" | ")} cannot feed ${into.types.join(" | ")}`;
  const occupied = graph.edges.filter((e) => e.target === target && e.targetHandle === targetHandle);
  if (occupied.some((e) => e.source === source && e.sourceHandle === sourceHandle)) {
    return "already connected";
  }
  if (occupied.length && !into.multiple) return `${into.label} takes one connection`;
  if (source === target || reaches(graph.edges, target, source)) return "would make a cycle";
  return null;
}
