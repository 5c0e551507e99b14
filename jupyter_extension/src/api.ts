/**
 * A typed client of the studio's REST API (PRD Table 5), served by the `studio_jupyter`
 * server extension under `{base_url}studio/api/v1/`. Every request goes through
 * `ServerConnection.makeRequest`, so Jupyter's token / XSRF cookie (and JupyterHub's
 * OAuth) authenticate it exactly like JupyterLab's own requests.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export const API_PATH = 'studio/api/v1';

/** The quality tiers of the studio's quality map (studio/quality.py). */
export const QUALITIES = ['low', 'standard', 'high'] as const;
export type Quality = (typeof QUALITIES)[number];
export const DEFAULT_QUALITY: Quality = 'standard';

/** Common aspect ratios; the manifest accepts any `W:H` with integers (studio/project/manifest.py). */
export const ASPECT_RATIOS = ['16:9', '9:16', '1:1', '4:3', '21:9'] as const;
export const DEFAULT_ASPECT_RATIO = '16:9';

/** `POST projects/{id}/canvas_notebook`. */
export interface CanvasNotebook {
  path: string;
  /** The notebook's `studio-canvas` cell (on disk) is exactly `canvas_source`. */
  trusted_cell: boolean;
  /** The generated canvas cell's code: the only code the lab runs without asking. */
  canvas_source: string;
}

export interface ToolCheck {
  ok: boolean;
  version?: string | null;
  message?: string | null;
  [key: string]: unknown;
}

export interface Status {
  version: string;
  workspace: string;
  git: ToolCheck;
  git_lfs: ToolCheck;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  quality: Quality;
  aspect_ratio: string;
  /** The canvas graph's version (for PUT projects/{id}). */
  version: number | null;
  /** Relative to Jupyter's root_dir, or null when the project lives outside it. */
  path: string | null;
  broken?: false;
}

/** A project folder whose project.json does not open: listed with why, never dropped. */
export interface BrokenProject {
  id: string;
  path: string | null;
  broken: true;
  /** What is wrong (the file and the field) and how to fix it. */
  error: string;
}

/** An entry of `GET projects`. */
export type ProjectEntry = Project | BrokenProject;

export function isBroken(entry: ProjectEntry): entry is BrokenProject {
  return entry.broken === true;
}

export interface NewProject {
  name: string;
  description?: string;
  quality?: Quality;
  aspect_ratio?: string;
}

/** `GET projects/{id}/settings`: the editable settings, project.json's version and the
 * choices the studio offers (declared once, server side). */
export interface ProjectSettings {
  name: string;
  title: string;
  description: string;
  quality: Quality;
  aspect_ratio: string;
  /** A new Assembler's frame rate. */
  frame_rate: string;
  /** project.json's version: sent back with a change (the optimistic lock). */
  version: number;
  choices: { quality: string[]; aspect_ratio: string[]; frame_rate: string[] };
}

/** The body of `PATCH projects/{id}/settings`: what changes, and the version it was loaded at. */
export interface SettingsChange {
  title?: string;
  description?: string;
  quality?: string;
  aspect_ratio?: string;
  frame_rate?: string;
  version: number;
}

export interface Shot {
  scene: number;
  shot: number;
  node_id?: string | null;
  takes: number;
  active: string | null;
}

export interface Take {
  name: string;
  url: string;
  thumbnail_url: string | null;
  active: boolean;
  ext: string;
  ready: boolean;
  [key: string]: unknown;
}

export interface Takes {
  takes: Take[];
  active: string | null;
  /** Why the shot's persisted active-take choice was not used (it names a missing take). */
  active_problem?: string | null;
}

/** One job of `GET projects/{id}/queue` (studio_jupyter.schemas.QueueJob). */
export interface QueueJob {
  job_id: string;
  node_id: string;
  /** generate, sweep, render, or what the job log names (batch). */
  kind: string;
  phase: 'running' | 'queued' | 'finished';
  state: string;
  /** One line: state, progress, error, cancel requested. */
  status: string;
  scene: number | null;
  shot: number | null;
  sweep_id: string | null;
  sweep_cell: number | null;
  step: string;
  progress: number;
  error: string | null;
  submitted_at: string | null;
  updated_at: string | null;
  cancel_requested: boolean;
  moved_to_front: boolean;
  /** Since it was submitted: 12 s, 4 min, 3 h. */
  age: string;
}

/** The project's queue: running jobs, queued ones in starting order, recently finished. */
export interface QueueView {
  paused: boolean;
  changed_at: string | null;
  counts: { running: number; queued: number; finished: number };
  jobs: QueueJob[];
  /** What an operation did. */
  message?: string | null;
}

/** A failed request: the HTTP status and the server's `{"message"}`. */
export class StudioApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'StudioApiError';
  }
}

/** The message of anything thrown by the client, for notifications. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

export class StudioAPI {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** The absolute URL of an API route (`parts` are URL-encoded). */
  url(...parts: Array<string | number>): string {
    return URLExt.join(
      this.settings.baseUrl,
      API_PATH,
      ...parts.map(part => encodeURIComponent(String(part)))
    );
  }

  status(): Promise<Status> {
    return this.request<Status>(this.url('status'));
  }

  listProjects(): Promise<ProjectEntry[]> {
    return this.request<ProjectEntry[]>(this.url('projects'));
  }

  createProject(project: NewProject): Promise<Project> {
    return this.request<Project>(this.url('projects'), {
      method: 'POST',
      body: JSON.stringify(project)
    });
  }

  /**
   * The project's canvas notebook (created by the server if absent): its path relative to
   * root_dir, whether its `studio-canvas` cell is the generated code, and that code.
   */
  canvasNotebook(projectId: string): Promise<CanvasNotebook> {
    return this.request<CanvasNotebook>(this.url('projects', projectId, 'canvas_notebook'), {
      method: 'POST',
      body: '{}'
    });
  }

  projectSettings(projectId: string): Promise<ProjectSettings> {
    return this.request<ProjectSettings>(this.url('projects', projectId, 'settings'));
  }

  /** Saved under project.json's lock: a 409 (`StudioApiError`) when it changed since `version`. */
  updateSettings(projectId: string, change: SettingsChange): Promise<ProjectSettings> {
    return this.request<ProjectSettings>(this.url('projects', projectId, 'settings'), {
      method: 'PATCH',
      body: JSON.stringify(change)
    });
  }

  listShots(projectId: string): Promise<Shot[]> {
    return this.request<Shot[]>(this.url('projects', projectId, 'shots'));
  }

  listTakes(projectId: string, scene: string | number, shot: string | number): Promise<Takes> {
    return this.request<Takes>(this.url('projects', projectId, 'takes', scene, shot));
  }

  queue(projectId: string): Promise<QueueView> {
    return this.request<QueueView>(this.url('projects', projectId, 'queue'));
  }

  /** Pause the project's queue (running jobs finish, queued ones wait) or resume it. */
  setQueuePaused(projectId: string, paused: boolean): Promise<QueueView> {
    return this.request<QueueView>(this.url('projects', projectId, 'queue'), {
      method: 'PUT',
      body: JSON.stringify({ paused })
    });
  }

  /** Cancel one job (`{job_id}`) or every unfinished job of a sweep (`{sweep_id}`). */
  cancelQueued(projectId: string, what: { job_id: string } | { sweep_id: string }): Promise<QueueView> {
    return this.request<QueueView>(this.url('projects', projectId, 'queue', 'cancel'), {
      method: 'POST',
      body: JSON.stringify(what)
    });
  }

  moveToFront(projectId: string, jobId: string): Promise<QueueView> {
    return this.request<QueueView>(this.url('projects', projectId, 'queue', 'move_to_front'), {
      method: 'POST',
      body: JSON.stringify({ job_id: jobId })
    });
  }

  /** Resolve a URL given by the server (absolute, root-relative or relative to base_url). */
  resolve(url: string): string {
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
      return url;
    }
    if (url.startsWith('/')) {
      return new URL(url, this.settings.baseUrl).toString();
    }
    return URLExt.join(this.settings.baseUrl, url);
  }

  /**
   * Fetch an authenticated media URL as a blob and return an object URL for `<img src>`
   * (an `<img>` cannot send the token header). The caller revokes it.
   */
  async objectUrl(url: string): Promise<string> {
    const response = await ServerConnection.makeRequest(this.resolve(url), {}, this.settings);
    if (!response.ok) {
      throw new StudioApiError(response.status, `${response.status} ${response.statusText}`);
    }
    return URL.createObjectURL(await response.blob());
  }

  private async request<T>(url: string, init: RequestInit = {}): Promise<T> {
    if (init.body !== undefined) {
      init.headers = { 'Content-Type': 'application/json', ...(init.headers ?? {}) };
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ServerConnection.NetworkError(error as TypeError);
    }
    const text = await response.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      if (data && typeof data === 'object' && 'message' in data) {
        // The server's errors: {"message", "hint"?} (studio_jupyter.schemas.Error).
        const { message: text, hint } = data as { message: unknown; hint?: unknown };
        message = String(text) + (hint ? ` ${String(hint)}` : '');
      } else if (typeof data === 'string' && data) {
        message += `: ${data.slice(0, 200)}`;
      }
      throw new StudioApiError(response.status, message);
    }
    return data as T;
  }
}
