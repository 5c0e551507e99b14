// The gallery's widget model mirrored into Svelte state (runes). The kernel reads the sweep
// (its job log, the shot's folder) and sends the cells; the browser only shows them, keeps
// which takes are open, and asks for a take to become active (`client:update_node_data`,
// handled by the studio service in the kernel).
import type { AnyModel } from "@anywidget/types";
import type { ClientUpdateNodeData } from "../events";

export interface Facet {
  title: string;
  row_axis: string | null;
  column_axis: string | null;
  row_labels: string[];
  column_labels: string[];
  cells: number[][];
}

export interface GridLayout {
  mode: "product" | "zip";
  facets: Facet[];
}

export type CellStatus = "done" | "running" | "queued" | "failed" | "canceled" | "not submitted";

export interface GalleryCell {
  index: number;
  label: string;
  status: CellStatus;
  take: string | null;
  error: string | null;
  /** The take's small cached thumbnail (a data URL). */
  thumbnail: string | null;
  /** The full picture (a link through the lab's media route), loaded when enlarged. */
  image: string | null;
}

export interface Progress {
  done: number;
  running: number;
  queued: number;
  failed: number;
  canceled: number;
  total: number;
  finished: boolean;
}

export interface Notice {
  level: "info" | "warning" | "error";
  message: string;
  seq: number;
}

export interface GalleryState {
  title: string;
  node_id: string;
  layout: GridLayout;
  cells: GalleryCell[];
  active_take: string | null;
  progress: Progress | Record<string, never>;
  live: boolean;
  notice: Notice | Record<string, never>;
}

const TRAITS = ["title", "node_id", "layout", "cells", "active_take", "progress", "live", "notice"] as const;

/** How long a notice stays on screen. */
const NOTICE_MS = 6000;

export class GalleryModel {
  title = $state.raw("");
  /** The sweep's Shot node (whose active take "Make active" sets). */
  nodeId = $state.raw("");
  layout = $state.raw<GridLayout>({ mode: "product", facets: [] });
  cells = $state.raw<GalleryCell[]>([]);
  activeTake = $state.raw<string | null>(null);
  progress = $state.raw<Progress | null>(null);
  live = $state.raw(false);
  notice = $state.raw<Notice | null>(null);
  /** The takes open in the viewer, by cell index: one enlarged, two compared side by side. */
  open = $state.raw<number[]>([]);
  /** The next take clicked joins the open one (compare), instead of replacing it. */
  comparing = $state.raw(false);
  /** A choice sent to the kernel and not answered yet (its take's name). */
  choosing = $state.raw<string | null>(null);

  #model: AnyModel<GalleryState>;
  #off: Array<() => void> = [];
  #noticeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(model: AnyModel<GalleryState>) {
    this.#model = model;
    for (const name of TRAITS) {
      const handler = () => this.#read(name);
      model.on(`change:${name}`, handler);
      this.#off.push(() => model.off(`change:${name}`, handler));
      this.#read(name);
    }
  }

  #read(name: (typeof TRAITS)[number]): void {
    const value = this.#model.get(name);
    switch (name) {
      case "title":
        this.title = value as string;
        break;
      case "node_id":
        this.nodeId = value as string;
        break;
      case "layout":
        this.layout = (value as GridLayout | undefined) ?? { mode: "product", facets: [] };
        break;
      case "cells":
        this.cells = (value as GalleryCell[] | undefined) ?? [];
        // A take open in the viewer that is gone (its cell failed after all) closes.
        this.open = this.open.filter((i) => this.cells[i]?.take);
        break;
      case "active_take":
        this.activeTake = (value as string | null | undefined) ?? null;
        this.choosing = null;
        break;
      case "progress":
        this.progress = (value as Partial<Progress> | undefined)?.total !== undefined
          ? (value as Progress)
          : null;
        break;
      case "live":
        this.live = Boolean(value);
        break;
      case "notice":
        this.#showNotice(value as Partial<Notice> | undefined);
        break;
    }
  }

  #showNotice(notice: Partial<Notice> | undefined): void {
    if (!notice?.message) return;
    this.notice = notice as Notice;
    this.choosing = null; // an answer came
    if (this.#noticeTimer !== null) clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => (this.notice = null), NOTICE_MS);
  }

  /** A click on a cell with a take: enlarge it, or (comparing, or shift-click) put it beside
   * the one open. A second click on an open take closes it. */
  select(index: number, { add = false }: { add?: boolean } = {}): void {
    if (!this.cells[index]?.take) return;
    if (this.open.includes(index)) {
      this.open = this.open.filter((i) => i !== index);
    } else if ((add || this.comparing) && this.open.length >= 1) {
      this.open = [this.open[this.open.length - 1], index];
    } else {
      this.open = [index];
    }
    this.comparing = false;
  }

  startComparing(): void {
    this.comparing = true;
  }

  close(index?: number): void {
    this.open = index === undefined ? [] : this.open.filter((i) => i !== index);
    this.comparing = false;
  }

  /** Ask the kernel to make the take the shot's active take (as a canvas's take choice). */
  makeActive(take: string): void {
    this.choosing = take;
    const payload: ClientUpdateNodeData = { node_id: this.nodeId, data: { active_take: take } };
    this.#model.send({ event: "client:update_node_data", payload });
  }

  dispose(): void {
    for (const off of this.#off) off();
    if (this.#noticeTimer !== null) clearTimeout(this.#noticeTimer);
  }
}
