// Links to a project's files from the kernel's canvas. A server front end says how its
// clients load a file (a result's `video_url`); the kernel does not know the page's URL, so
// the canvas builds one itself: JupyterLab serves the files under its root at `files/`
// (byte ranges included, so a video seeks), and its page says where that root is.
import type { ProjectFiles } from "./model.svelte";

/** What the JupyterLab page says about itself (its `jupyter-config-data`). */
export interface PageConfig {
  baseUrl: string;
  serverRoot: string;
}

/** The page's config, or null outside JupyterLab (a classic notebook, VS Code...). */
export function pageConfig(doc: Document | undefined = globalThis.document): PageConfig | null {
  const text = doc?.getElementById("jupyter-config-data")?.textContent;
  if (!text) return null;
  try {
    const config = JSON.parse(text) as Record<string, unknown>;
    const { baseUrl, serverRoot } = config;
    return typeof baseUrl === "string" && typeof serverRoot === "string" ? { baseUrl, serverRoot } : null;
  } catch {
    return null;
  }
}

function trimmed(path: string): string {
  return path.replace(/\/+$/, "");
}

/** The project folder relative to the server's root ("" for the root), or null outside it. */
export function projectUnderRoot(project: ProjectFiles, config: PageConfig): string | null {
  if (!project.root) return null;
  // Jupyter writes a root under the home folder as `~/...`.
  const root = trimmed(config.serverRoot.startsWith("~") && project.home
    ? project.home + config.serverRoot.slice(1)
    : config.serverRoot);
  const folder = trimmed(project.root);
  if (folder === root) return "";
  return folder.startsWith(`${root}/`) ? folder.slice(root.length + 1) : null;
}

const encoded = (path: string): string => path.split("/").map(encodeURIComponent).join("/");

/** Where the page loads `relative` (a path inside the project) from, or null when it cannot
 * (no JupyterLab page, or a project outside the server's root). */
export function projectFileUrl(project: ProjectFiles, relative: string, config: PageConfig | null): string | null {
  if (!config) return null;
  const folder = projectUnderRoot(project, config);
  if (folder === null) return null;
  const path = folder ? `${folder}/${relative}` : relative;
  const base = config.baseUrl.endsWith("/") ? config.baseUrl : `${config.baseUrl}/`;
  return `${base}files/${encoded(path)}`;
}
