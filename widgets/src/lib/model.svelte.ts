// The widget model mirrored into Svelte state (runes). Python's Graph is the source of truth:
// edits are applied here at once (optimistic) and sent as `client:*` events; what comes back
// replaces the local graph: each change as a numbered `server:graph_patch`, the whole graph in
// `server:full_sync` (asked for on mount and whenever a patch does not follow).
import type { AnyModel } from "@anywidget/types";
import { SvelteMap } from "svelte/reactivity";
import { STATUS_EVENTS, type EventName, type EventPayloads, type Message } from "../events";
import { applyPatch, patchedNodes, patchFollows } from "./patches";
import type {
  GraphJSON,
  NodeStatus,
  NodeTypeSpec,
  NodeTypesPayload,
  ProjectSettings,
} from "./types";

/** How long an unanswered `client:sync_request` holds back asking again (patches that do not
 * follow keep coming meanwhile; one full sync answers for all of them). */
const SYNC_RETRY_MS = 2000;

export interface WidgetState {
  graph: GraphJSON;
  graph_seq: number;
  node_types: NodeTypesPayload;
  node_status: Record<string, NodeStatus>;
  pipelines: string[];
  title: string;
  project_settings: ProjectSettings | Record<string, never>;
  save_status: string;
  history: { can_undo: boolean; can_redo: boolean };
  height: number;
  project_files: ProjectFiles;
}

/** Where the kernel's project is (the `project_files` trait; empty for a bare graph). */
export interface ProjectFiles {
  root?: string;
  home?: string;
}

/** The latest notification that names a node (a refusal, a warning), shown on that node. */
export interface NodeNotice {
  level: "info" | "warning" | "error";
  message: string;
}

export interface Toast {
  id: number;
  level: "info" | "warning" | "error";
  message: string;
}

const TRAITS = [
  "graph", "node_types", "node_status", "pipelines", "title", "save_status", "history", "height",
  "project_settings", "project_files",
] as const;

export class CanvasModel {
  graph = $state.raw<GraphJSON>({ version: 1, nodes: [], edges: [] });
  /** Bumped on every authoritative graph from Python, even an identical one (a revert). */
  revision = $state.raw(0);
  /** The revision of the latest whole graph (not a patch): from it on, redraw everything. */
  wholeRevision = $state.raw(0);
  nodeTypes = $state.raw<NodeTypesPayload>({ node_types: [], socket_colors: {}, compatibility: {} });
  nodeStatus = $state.raw<Record<string, NodeStatus>>({});
  pipelines = $state.raw<string[]>([]);
  title = $state.raw("");
  /** The project's settings (null: a canvas without a project). */
  settings = $state.raw<ProjectSettings | null>(null);
  saveStatus = $state.raw("saved");
  history = $state.raw({ can_undo: false, can_redo: false });
  height = $state.raw(640);
  projectFiles = $state.raw<ProjectFiles>({});
  /** Per node, the latest notification naming it (until the node clears it). */
  nodeNotices = $state.raw<Record<string, NodeNotice>>({});
  toasts = $state.raw<Toast[]>([]);
  /** Every event received from Python, newest last (shown in the event log; read by tests). */
  received = $state.raw<Message[]>([]);

  #model: AnyModel<WidgetState>;
  #off: Array<() => void> = [];
  #toastId = 0;
  /** The patch number the local graph is at; null until a full sync says (patches wait). */
  #seq: number | null = null;
  /** When the pending `client:sync_request` went out, or null when none is pending. */
  #syncAskedAt: number | null = null;
  /** Each node's fields, a signal per node: a patch of fields redraws just those nodes. */
  #fields = new SvelteMap<string, Record<string, unknown>>();

  constructor(model: AnyModel<WidgetState>) {
    this.#model = model;
    for (const name of TRAITS) {
      const handler = () => this.#read(name);
      model.on(`change:${name}`, handler);
      this.#off.push(() => model.off(`change:${name}`, handler));
      this.#read(name);
    }
    const onMessage = (content: unknown) => this.#receive(content as Message);
    model.on("msg:custom", onMessage);
    this.#off.push(() => model.off("msg:custom", onMessage));
    // A re-displayed widget (or a reconnect) asks for the authoritative state: the graph of the
    // widget's state draws at once, but only a full sync says which patch it is at.
    this.#askForSync();
  }

  #read(name: (typeof TRAITS)[number]): void {
    const value = this.#model.get(name);
    switch (name) {
      case "graph":
        this.#adopt((value as GraphJSON | undefined) ?? this.graph, null);
        break;
      case "node_types":
        this.nodeTypes = value as NodeTypesPayload;
        break;
      case "node_status":
        this.nodeStatus = value as Record<string, NodeStatus>;
        break;
      case "pipelines":
        this.pipelines = value as string[];
        break;
      case "title":
        this.title = value as string;
        break;
      case "save_status":
        this.saveStatus = value as string;
        break;
      case "history":
        this.history = value as { can_undo: boolean; can_redo: boolean };
        break;
      case "height":
        this.height = value as number;
        break;
      case "project_settings":
        this.settings = (value as Partial<ProjectSettings> | undefined)?.quality
          ? (value as ProjectSettings)
          : null;
        break;
      case "project_files":
        this.projectFiles = (value as ProjectFiles | undefined) ?? {};
        break;
    }
  }

  #receive(message: Message): void {
    if (!message || typeof message.event !== "string") return;
    this.received = [...this.received.slice(-199), message];
    this.#outdateInfoNotice(message);
    if (message.event === "server:full_sync") {
      const payload = message.payload as EventPayloads["server:full_sync"];
      this.nodeStatus = (payload.node_status ?? {}) as Record<string, NodeStatus>;
      // The trait came on the same comm just before (Python sets it as it sends a full sync).
      const seq = payload.seq ?? this.#model.get("graph_seq");
      this.#adopt(payload.graph as unknown as GraphJSON, typeof seq === "number" ? seq : null);
    } else if (message.event === "server:graph_patch") {
      this.#patch(message.payload as EventPayloads["server:graph_patch"]);
    } else if (message.event === "server:notification") {
      const payload = message.payload as EventPayloads["server:notification"];
      this.notify(payload.level ?? "info", payload.message);
      if (payload.node_id) {
        const notice = { level: payload.level ?? "info", message: payload.message };
        this.nodeNotices = { ...this.nodeNotices, [payload.node_id]: notice };
      }
    } else if (message.event === "server:task_success") {
      this.#announceTake(message.payload as EventPayloads["server:task_success"]);
    } else if (message.event === "server:task_failed") {
      const payload = message.payload as EventPayloads["server:task_failed"];
      this.notify("error", payload.error);
    }
  }

  /** A job's own event on a node supersedes an info notice there ("starting the engine"):
   * the node's status says what is happening now. Warnings stay until dismissed. */
  #outdateInfoNotice(message: Message): void {
    if (!STATUS_EVENTS.has(message.event)) return;
    const nodeId = (message.payload as { node_id?: unknown } | undefined)?.node_id;
    if (typeof nodeId === "string" && this.nodeNotices[nodeId]?.level === "info") {
      this.clearNotice(nodeId);
    }
  }

  /** A new take that does not become active (the shot's take is pinned) is still seen. */
  #announceTake(payload: EventPayloads["server:task_success"]): void {
    const take = payload.result?.take;
    const status = this.nodeStatus[payload.node_id];
    if (take && status?.take_pinned && status.active_take && status.active_take !== take) {
      this.notify(
        "info",
        `New take ${take} is ready; the pinned take ${status.active_take} stays active ` +
          "(choose it in the Take list, or unpin).",
      );
    }
  }

  /** A whole graph from Python, at patch `seq` (null: unknown, so a full sync is asked for). */
  #adopt(graph: GraphJSON, seq: number | null): void {
    this.graph = graph;
    const present = new Set(graph.nodes.map((node) => node.id));
    for (const id of this.#fields.keys()) if (!present.has(id)) this.#fields.delete(id);
    for (const node of graph.nodes) this.#fields.set(node.id, node.data);
    this.revision += 1;
    this.wholeRevision = this.revision;
    this.#seq = seq;
    if (seq === null) this.#askForSync();
    else this.#syncAskedAt = null;
  }

  #patch(patch: EventPayloads["server:graph_patch"]): void {
    if (this.#seq === null || !patchFollows(this.graph, this.#seq, patch)) {
      // Lost, out of order or before any full sync: the full sync will hold this change too.
      this.#seq = null;
      this.#askForSync();
      return;
    }
    this.graph = applyPatch(this.graph, patch);
    for (const id of patch.removed_nodes ?? []) this.#fields.delete(id);
    for (const node of patchedNodes(patch)) this.#fields.set(node.id, node.data);
    this.#seq = patch.seq;
    this.revision += 1;
  }

  /** The fields of node `id` as Python has them (reactive: read it where they are shown). */
  fieldsOf(id: string): Record<string, unknown> {
    return this.#fields.get(id) ?? {};
  }

  #askForSync(): void {
    const now = Date.now();
    if (this.#syncAskedAt !== null && now - this.#syncAskedAt < SYNC_RETRY_MS) return;
    this.#syncAskedAt = now;
    this.send("client:sync_request", {});
  }

  send<N extends EventName>(event: N, payload: EventPayloads[N]): void {
    this.#model.send({ event, payload });
  }

  notify(level: Toast["level"], message: string): void {
    const toast = { id: ++this.#toastId, level, message };
    this.toasts = [...this.toasts, toast];
    setTimeout(() => this.dismiss(toast.id), level === "error" ? 10000 : 5000);
  }

  /** Forget the notice shown on node `id` (the user acted on the node again). */
  clearNotice(id: string): void {
    if (!(id in this.nodeNotices)) return;
    const { [id]: _gone, ...rest } = this.nodeNotices;
    this.nodeNotices = rest;
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  typeOf(name: string): NodeTypeSpec | undefined {
    return this.nodeTypes.node_types.find((t) => t.name === name);
  }

  dispose(): void {
    for (const off of this.#off) off();
  }
}
