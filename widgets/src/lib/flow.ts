// Pure conversions between the studio graph and Svelte Flow, and the connection rules the
// canvas enforces visually (the same table Python validates with).
import type { Connection, Edge, Node } from "@xyflow/svelte";
import { COMPONENTS } from "./nodeTypes";
import type { GraphEdge, GraphJSON, GraphNode, NodeTypeSpec, NodeTypesPayload } from "./types";

export interface FlowNodeData extends Record<string, unknown> {
  nodeType: string;
  fields: Record<string, unknown>;
}

export type FlowNode = Node<FlowNodeData>;

export function newId(prefix: string): string {
  const random = Math.random().toString(16).slice(2, 10).padEnd(8, "0");
  return `${prefix.toLowerCase().replace(/\./g, "-")}-${random}`;
}

export interface FlowNodeOptions {
  /** Whether the flow node of `previous` may stay as it is (mid-drag, say) for `node`. */
  unchanged?: (node: GraphNode) => boolean;
  /** Where a node's fields are read from when shown (else: from the graph node, fixed). */
  fieldsOf?: (id: string) => Record<string, unknown>;
}

/** Graph nodes as Svelte Flow nodes, keeping selection and measurements of `previous`; an
 * `unchanged` node keeps its flow node unless it was hidden or shown since. */
export function toFlowNodes(
  graph: GraphJSON,
  types: NodeTypesPayload,
  previous: FlowNode[],
  { unchanged = () => false, fieldsOf }: FlowNodeOptions = {},
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
  const depth = new Map<string, number>();
  for (const node of graph.nodes) {
    let d = 0;
    for (let p = node.parentId; p && d < 64; p = byId.get(p)?.parentId) d++;
    depth.set(node.id, d);
  }
  return [...graph.nodes]
    .sort((a, b) => (depth.get(a.id) ?? 0) - (depth.get(b.id) ?? 0))
    .map((node) => {
      const old = before.get(node.id);
      const hidden = collapsed(node.parentId);
      if (old && unchanged(node)) return old.hidden === hidden ? old : { ...old, hidden };
      const kind = component.get(node.type) ?? "generic";
      const isGroupCollapsed = kind === "group" && node.data.collapsed === true;
      const flow: FlowNode = {
        id: node.id,
        type: COMPONENTS.includes(kind) ? kind : "generic",
        position: { ...node.position },
        data: fieldsOf
          ? {
              nodeType: node.type,
              get fields() {
                return fieldsOf(node.id);
              },
            }
          : { nodeType: node.type, fields: node.data },
        selected: old?.selected ?? false,
        hidden,
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

/** Graph edges as Svelte Flow edges, keeping selection of `previous`; an edge for which
 * `unchanged(edge)` holds keeps its flow edge of `previous`. */
export function toFlowEdges(
  graph: GraphJSON,
  previous: Edge[],
  unchanged: (edge: GraphEdge) => boolean = () => false,
): Edge[] {
  const before = new Map(previous.map((e) => [e.id, e]));
  return graph.edges.map((edge: GraphEdge) => {
    const old = before.get(edge.id);
    if (old && unchanged(edge)) return old;
    return {
      id: edge.id,
      source: edge.source,
      sourceHandle: edge.sourceHandle,
      target: edge.target,
      targetHandle: edge.targetHandle,
      selected: old?.selected ?? false,
    };
  });
}

/** Successive graphs from Python as Svelte Flow nodes and edges, redrawing only what changed.
 * A patch leaves the objects of the nodes and edges it does not touch as they were, so one
 * already converted keeps its flow element as Svelte Flow holds it now (a drag under way, a
 * selection, measurements): an edit's echo resets nothing else. A node whose fields alone
 * changed keeps its flow node too: shown through `fieldsOf` (reactive), its fields redraw just
 * that node, and when no element changed Svelte Flow gets the same arrays back (handing it new
 * ones costs it work for every node and edge). A whole graph (`wholeRevision`: a sync, a
 * refused edit) rebuilds everything, which also undoes optimistic changes Python refused. */
export class FlowConverter {
  #nodes = new Map<string, GraphNode>();
  #edges = new Map<string, GraphEdge>();
  #types: NodeTypesPayload | null = null;
  #wholeRevision = -1;
  #fieldsOf: (id: string) => Record<string, unknown>;

  constructor(fieldsOf: (id: string) => Record<string, unknown>) {
    this.#fieldsOf = fieldsOf;
  }

  /** The flow nodes and edges for `graph`, from those Svelte Flow holds now (`previous`). */
  convert(
    graph: GraphJSON,
    types: NodeTypesPayload,
    previous: { nodes: FlowNode[]; edges: Edge[] },
    wholeRevision: number,
  ): { nodes: FlowNode[]; edges: Edge[] } {
    if (types !== this.#types || wholeRevision !== this.#wholeRevision) {
      this.#types = types; // (other components or colours: redraw every node too)
      this.#wholeRevision = wholeRevision;
      this.#nodes.clear();
      this.#edges.clear();
    }
    const nodesBefore = this.#nodes;
    const edgesBefore = this.#edges;
    const unchanged = (node: GraphNode): boolean => {
      const before = nodesBefore.get(node.id);
      return before !== undefined && (before === node || sameShape(before, node));
    };
    const nodes = toFlowNodes(graph, types, previous.nodes, { unchanged, fieldsOf: this.#fieldsOf });
    const edges = toFlowEdges(graph, previous.edges, (edge) => edgesBefore.get(edge.id) === edge);
    this.#nodes = new Map(graph.nodes.map((node) => [node.id, node]));
    this.#edges = new Map(graph.edges.map((edge) => [edge.id, edge]));
    return {
      nodes: sameItems(nodes, previous.nodes) ? previous.nodes : nodes,
      edges: sameItems(edges, previous.edges) ? previous.edges : edges,
    };
  }
}

/** Whether two states of a node differ in their fields at most (not where or what it is). */
function sameShape(a: GraphNode, b: GraphNode): boolean {
  return (
    a.type === b.type &&
    a.parentId === b.parentId &&
    a.position.x === b.position.x &&
    a.position.y === b.position.y &&
    a.width === b.width &&
    a.height === b.height &&
    a.data.collapsed === b.data.collapsed // a group's size and its children's visibility
  );
}

function sameItems<T>(a: T[], b: T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
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
  const from = typeOf(source);
  const to = typeOf(target);
  const out = from?.outputs.find((s) => s.name === sourceHandle);
  const into = to?.inputs.find((s) => s.name === targetHandle);
  if (!from || !to || !out || !into) return "unknown socket";
  if (from.pipeline_id) {
    return (
      `a ${from.label} node does not run on its own, so it has no output to give: use a ` +
      `Pipeline node set to “${from.pipeline_id}”, connected to a Shot's Pipeline socket`
    );
  }
  const feeds = out.types.some((s) => into.types.some((t) => types.compatibility[s]?.includes(t)));
  if (!feeds) {
    return (
      `${from.label}'s ${out.label} gives ${out.types.join(" or ")}; ` +
      `${to.label}'s ${into.label} takes ${into.types.join(" or ")}`
    );
  }
  const occupied = graph.edges.filter((e) => e.target === target && e.targetHandle === targetHandle);
  if (occupied.some((e) => e.source === source && e.sourceHandle === sourceHandle)) {
    return "already connected";
  }
  if (occupied.length && !into.multiple) return `${into.label} takes one connection`;
  if (source === target || reaches(graph.edges, target, source)) return "would make a cycle";
  return null;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A node's size on the canvas before Svelte Flow has measured it, by its component. */
export function expectedSize(component: string): { width: number; height: number } {
  if (component === "shot") return { width: 260, height: 440 };
  if (component === "group") return { width: 480, height: 320 };
  if (component === "assembler") return { width: 280, height: 360 };
  return { width: 240, height: 200 };
}

function overlaps(a: Box, b: Box, gap: number): boolean {
  return (
    a.x < b.x + b.width + gap &&
    b.x < a.x + a.width + gap &&
    a.y < b.y + b.height + gap &&
    b.y < a.y + a.height + gap
  );
}

/** Where a new node of `size` goes (its top-left): centred on `center` when that is free,
 * else the free spot nearest to it, `gap` clear of every box in `boxes`. Tried on a grid of
 * widening rings around the centre; after `maxRings`, the centre (the canvas stays usable). */
export function freeSpot(
  center: { x: number; y: number },
  size: { width: number; height: number },
  boxes: Box[],
  { gap = 24, step = 40, maxRings = 60 }: { gap?: number; step?: number; maxRings?: number } = {},
): { x: number; y: number } {
  const start = { x: center.x - size.width / 2, y: center.y - size.height / 2 };
  const free = (x: number, y: number) =>
    !boxes.some((box) => overlaps({ x, y, ...size }, box, gap));
  for (let ring = 0; ring <= maxRings; ring++) {
    const spots: { x: number; y: number; d: number }[] = [];
    for (let i = -ring; i <= ring; i++) {
      for (let j = -ring; j <= ring; j++) {
        if (Math.max(Math.abs(i), Math.abs(j)) !== ring) continue; // this ring's cells only
        const x = start.x + i * step;
        const y = start.y + j * step;
        spots.push({ x, y, d: Math.hypot(i * step, j * step) });
      }
    }
    spots.sort((a, b) => a.d - b.d);
    const found = spots.find((spot) => free(spot.x, spot.y));
    if (found) return { x: found.x, y: found.y };
  }
  return start;
}
