// The shapes the Python side sends (studio/graph/registry.py, studio/graph/graph.py); the
// registry's names come generated (./nodeTypes.ts).
import type { RenderResult } from "../events";
import type { Component, FieldKind } from "./nodeTypes";

export type { BuiltinNodeType, Component, FieldKind } from "./nodeTypes";

export type SocketType = string;

export interface SocketSpec {
  name: string;
  label: string;
  types: SocketType[];
  multiple: boolean;
  required: boolean;
}

export interface FieldSpec {
  name: string;
  label: string;
  kind: FieldKind;
  default: unknown;
  minimum: number | null;
  maximum: number | null;
  step: number | null;
  choices: string[] | null;
  help: string;
}

export interface NodeTypeSpec {
  name: string;
  label: string;
  description: string;
  inputs: SocketSpec[];
  outputs: SocketSpec[];
  fields: FieldSpec[];
  ui: { component: Component; color: string; icon: string; category: string; draft: boolean };
  pipeline_id: string | null;
}

export interface NodeTypesPayload {
  node_types: NodeTypeSpec[];
  socket_colors: Record<string, string>;
  compatibility: Record<string, string[]>;
}

export interface GraphNode {
  id: string;
  type: string;
  position: { x: number; y: number };
  data: Record<string, unknown>;
  parentId?: string;
  width?: number;
  height?: number;
}

export interface GraphEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

export interface GraphJSON {
  version: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** A node's status: its jobs' events folded (studio/events.py `fold_status`); a success
 * brings its result's keys (a take's, or an Assembler's render: `RenderResult`). */
export interface NodeStatus extends Partial<RenderResult> {
  state?: "idle" | "queued" | "generating" | "success" | "failed" | "canceled";
  task_id?: string;
  progress?: number;
  step?: string;
  error?: string;
  code?: string;
  takes?: string[];
  active_take?: string | null;
}
