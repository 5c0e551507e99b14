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
  ui: {
    component: Component;
    color: string;
    icon: string;
    category: string;
    draft: boolean;
    /** The palette entry adds this node instead (a pipeline's entry: the node that runs it). */
    preset?: { node_type: string; data: Record<string, unknown> } | null;
  };
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
  take?: string;
  thumbnail_url?: string | null;
  takes?: string[];
  active_take?: string | null;
  /** A post node's outputs made from its current source with its current settings. */
  outputs?: string[];
  /** A post node's current output (null: none, or stale). */
  active_output?: string | null;
  /** What a post node runs on: the upstream take or output. */
  source?: string | null;
  /** A post node whose shown output was made with other settings (or from another source). */
  stale?: boolean;
  /** Why a post node cannot run now ("connect a shot first", "generate SHOT-010 first"). */
  problem?: string | null;
  /** The installed pipelines a post node can run (of its task). */
  pipelines?: string[];
  /** The user pinned the active take: new takes do not replace it. */
  take_pinned?: boolean;
}

/** The project's editable settings (studio/service/views.py, settings_view). */
export interface ProjectSettings {
  name: string;
  title: string;
  description: string;
  quality: string;
  aspect_ratio: string;
  /** A new Assembler's frame rate. */
  frame_rate: string;
  /** project.json's version (the optimistic lock's counter). */
  version: number;
  choices: { quality: string[]; aspect_ratio: string[]; frame_rate: string[] };
}
