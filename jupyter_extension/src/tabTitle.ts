/**
 * A project's canvas notebook tab says whose canvas it is: "<project title> — Canvas"
 * (caption: the folder and the file), not the file name every project shares. Labelled when
 * the notebook opens (also when the lab restores it) and again when the panel saves settings. Only the
 * tab's label changes: the file keeps its name, so its kernel starts as it always did.
 */
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { isBroken, Project, StudioAPI } from './api';

/**
 * Stop a document tab from renaming its file when its label changes. JupyterLab's
 * DocumentWidget renames the file to a label set on its title (its in-tab rename); a label
 * that is not the file name must not move the notebook (the kernel starts in the file's
 * folder, the server finds it by name). False when that handler is not found to stop: then
 * the label is left alone rather than risk a rename.
 */
function keepFileName(panel: NotebookPanel): boolean {
  const renames = (panel as unknown as { _onTitleChanged?: unknown })._onTitleChanged;
  if (typeof renames !== 'function') {
    return false;
  }
  return panel.title.changed.disconnect(renames as (sender: unknown) => void, panel);
}

/** The project notebook's file name (studio/project/notebook.py, NOTEBOOK_FILE). */
export const CANVAS_NOTEBOOK = 'Canvas.ipynb';

/** "<title> — Canvas"; with the folder too when another project has the same title (the
 * folder is unique where titles need not be). */
export function canvasTabLabel(project: Project, projects: Project[]): string {
  const shared = projects.some(other => other.id !== project.id && other.name === project.name);
  return shared ? `${project.name} (${project.id}) — Canvas` : `${project.name} — Canvas`;
}

export class CanvasTabTitles {
  private readonly watched = new WeakSet<NotebookPanel>();
  /** Panels whose file no longer follows the label (see `keepFileName`). */
  private readonly kept = new WeakSet<NotebookPanel>();

  constructor(
    private readonly api: StudioAPI,
    private readonly tracker: INotebookTracker
  ) {
    tracker.forEach(panel => void this.label(panel));
    tracker.widgetAdded.connect((_, panel) => void this.label(panel));
  }

  /** Label every open canvas tab again (e.g. after a project's title changed). */
  async refresh(projects?: Project[]): Promise<void> {
    const known = projects ?? (await this.projects());
    this.tracker.forEach(panel => this.apply(panel, known));
  }

  private async label(panel: NotebookPanel): Promise<void> {
    await panel.context.ready;
    if (panel.isDisposed || PathExt.basename(panel.context.localPath) !== CANVAS_NOTEBOOK) {
      return;
    }
    if (!this.watched.has(panel)) {
      this.watched.add(panel);
      // JupyterLab sets the file name again when the path changes (a rename, a move).
      panel.context.pathChanged.connect(() => void this.label(panel));
    }
    this.apply(panel, await this.projects());
  }

  private apply(panel: NotebookPanel, projects: Project[]): void {
    const path = panel.context.localPath;
    if (panel.isDisposed || PathExt.basename(path) !== CANVAS_NOTEBOOK) {
      return;
    }
    // Only a notebook the server knows as a project's (its folder is a project) is relabelled.
    const project = projects.find(p => p.path !== null && p.path === PathExt.dirname(path));
    if (!project) {
      return;
    }
    if (!this.kept.has(panel)) {
      if (!keepFileName(panel)) {
        return;
      }
      this.kept.add(panel);
    }
    panel.title.label = canvasTabLabel(project, projects);
    panel.title.caption = `${project.name}: the canvas of project folder ${project.id} (${path})`;
    panel.node.dataset.studioProject = project.id;
  }

  private async projects(): Promise<Project[]> {
    try {
      return (await this.api.listProjects()).filter((p): p is Project => !isBroken(p));
    } catch {
      return []; // the file name stays: a label is not worth an error
    }
  }
}
