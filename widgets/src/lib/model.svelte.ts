// The widget model mirrored into Svelte state (runes). Python's Graph is the source of truth:
// edits are applied here at once (optimistic) and sent as `client:*` events; the graph that
// comes back (traitlet or `server:full_sync`) replaces the local one.
import type { AnyModel } from "@anywidget/types";
import type { EventName, EventPayloads, Message } from "../events";
import type { GraphJSON, NodeStatus, NodeTypeSpec, NodeTypesPayload } from "./types";

export interface WidgetState {
  graph: GraphJSON;
  node_types: NodeTypesPayload;
  node_status: Record<string, NodeStatus>;
  pipelines: string[];
  title: string;
  save_status: string;
  history: { can_undo: boolean; can_redo: boolean };
  height: number;
}

export interface Toast {
  id: number;
  level: "info" | "warning" | "error";
  message: string;
}

const TRAITS = [
  "graph", "node_types", "node_status", "pipelines", "title", "save_status", "history", "height",
] as const;

export class CanvasModel {
  graph = $state.raw<GraphJSON>({ version: 1, nodes: [], edges: [] });
  /** Bumped on every authoritative graph from Python, even an identical one (a revert). */
  revision = $state.raw(0);
  nodeTypes = $state.raw<NodeTypesPayload>({ node_types: [], socket_colors: {}, compatibility: {} });
  nodeStatus = $state.raw<Record<string, NodeStatus>>({});
  pipelines = $state.raw<string[]>([]);
  title = $state.raw("");
  saveStatus = $state.raw("saved");
  history = $state.raw({ can_undo: false, can_redo: false });
  height = $state.raw(640);
  toasts = $state.raw<Toast[]>([]);
  /** Every event received from Python, newest last (shown in the event log; read by tests). */
  received = $state.raw<Message[]>([]);

  #model: AnyModel<WidgetState>;
  #off: Array<() => void> = [];
  #toastId = 0;

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
    // A re-displayed widget (or a reconnect) asks for the authoritative state.
    this.send("client:sync_request", {});
  }

  #read(name: (typeof TRAITS)[number]): void {
    const value = this.#model.get(name);
    switch (name) {
      case "graph":
        this.graph = value as GraphJSON;
        this.revision += 1;
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
    }
  }

  #receive(message: Message): void {
    if (!message || typeof message.event !== "string") return;
    this.received = [...this.received.slice(-199), message];
    if (message.event === "server:full_sync") {
      const payload = message.payload as EventPayloads["server:full_sync"];
      this.graph = payload.graph as unknown as GraphJSON;
      this.nodeStatus = (payload.node_status ?? {}) as Record<string, NodeStatus>;
      this.revision += 1;
    } else if (message.event === "server:notification") {
      const payload = message.payload as EventPayloads["server:notification"];
      this.notify(payload.level ?? "info", payload.message);
    } else if (message.event === "server:task_failed") {
      const payload = message.payload as EventPayloads["server:task_failed"];
      this.notify("error", payload.error);
    }
  }

  send<N extends EventName>(event: N, payload: EventPayloads[N]): void {
    this.#model.send({ event, payload });
  }

  notify(level: Toast["level"], message: string): void {
    const toast = { id: ++this.#toastId, level, message };
    this.toasts = [...this.toasts, toast];
    setTimeout(() => this.dismiss(toast.id), level === "error" ? 10000 : 5000);
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
