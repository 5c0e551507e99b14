/**
 * Open a project's canvas: ask the server for the project notebook, open it, and run its
 * canvas cell (tagged `studio-canvas`) once the kernel is ready, so the canvas appears.
 *
 * Only that one cell runs, and only when its code is exactly the code the studio generates
 * (the server says so for the file, and the cell as opened is compared again): a cloned or
 * shared project's notebook is someone else's code, and opening a canvas must not run code
 * the user never saw. Otherwise the notebook opens without running anything and a
 * notification says why. A notebook that is already open is only revealed.
 */
import { Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { PathExt } from '@jupyterlab/coreutils';
import { INotebookTracker, Notebook, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { CanvasNotebook, errorMessage, Project, StudioAPI } from './api';
import { CANVAS_NOTEBOOK } from './tabTitle';

export const CANVAS_TAG = 'studio-canvas';

/** The index of the notebook's one code cell tagged `studio-canvas`, or -1. */
export function canvasCellIndex(notebook: Notebook): number {
  const found: number[] = [];
  notebook.widgets.forEach((cell, index) => {
    const tags = cell.model.getMetadata('tags');
    if (cell.model.type === 'code' && Array.isArray(tags) && tags.includes(CANVAS_TAG)) {
      found.push(index);
    }
  });
  return found.length === 1 ? found[0] : -1;
}

export async function openCanvas(
  api: StudioAPI,
  docManager: IDocumentManager,
  projectId: string
): Promise<NotebookPanel | null> {
  const reply = await api.canvasNotebook(projectId);
  const alreadyOpen = docManager.findWidget(reply.path) !== undefined;
  const widget = docManager.openOrReveal(reply.path);
  if (!(widget instanceof NotebookPanel)) {
    return null;
  }
  if (alreadyOpen) {
    return widget;
  }
  await widget.context.ready;
  await runCanvasCell(widget, reply);
  return widget;
}

/**
 * Run the notebook's canvas cell if it is the code the studio generates (see the module's
 * comment); otherwise leave it and say why. The panel's `data-studio-canvas-run` says which.
 */
async function runCanvasCell(widget: NotebookPanel, reply: CanvasNotebook): Promise<void> {
  const notebook = widget.content;
  const index = canvasCellIndex(notebook);
  const cell = index >= 0 ? notebook.widgets[index] : undefined;
  if (!reply.trusted_cell || !cell || cell.model.sharedModel.getSource() !== reply.canvas_source) {
    Notification.warning(
      `${reply.path} was opened without running it: its canvas cell is not the code the ` +
        'studio generates (the notebook was edited, or came with a cloned project). Read it, ' +
        'then run it yourself to show the canvas.',
      { autoClose: false }
    );
    widget.node.dataset.studioCanvasRun = 'refused';
    return;
  }
  // Clean now, before the kernel's answer (its language info) and the run's outputs change it.
  const wasDirty = widget.context.model.dirty;
  await widget.sessionContext.ready;
  const kernel = widget.sessionContext.session?.kernel;
  if (kernel) {
    // Wait until the kernel answers (or at least is not starting) before running.
    await kernel.info.catch(() => undefined);
  }
  await NotebookActions.runCells(notebook, [cell], widget.sessionContext);
  if (!wasDirty && !widget.isDisposed) {
    // Showing the canvas is no edit: the notebook is saved without the run's outputs and
    // kernel details (the server's save hook), so it equals the file; closing asks nothing.
    widget.context.model.dirty = false;
  }
  widget.node.dataset.studioCanvasRun = 'ran';
}

/**
 * Canvas notebooks the lab restored (a page reload, a new browser tab) come back without
 * their canvas: the studio saves them without outputs (git stays clean) and a widget's view
 * cannot outlive its page. Run the canvas cell again — only for a project's own canvas
 * notebook whose canvas cell shows nothing, under the same check as opening it.
 */
export async function restoreCanvases(
  api: StudioAPI,
  tracker: INotebookTracker,
  projects: () => Promise<Project[]>
): Promise<void> {
  const panels: NotebookPanel[] = [];
  tracker.forEach(panel => {
    if (PathExt.basename(panel.context.localPath) === CANVAS_NOTEBOOK) {
      panels.push(panel);
    }
  });
  if (panels.length === 0) {
    return;
  }
  const known = await projects();
  await Promise.all(
    panels.map(async panel => {
      await panel.context.ready;
      const folder = PathExt.dirname(panel.context.localPath);
      const project = known.find(p => p.path !== null && p.path.replace(/^\/+|\/+$/g, '') === folder);
      const index = canvasCellIndex(panel.content);
      // The cell's saved form: a code cell's outputs (none when the studio saved it).
      const saved = index >= 0 ? (panel.content.widgets[index].model.toJSON() as { outputs?: unknown[] }) : null;
      if (!project || !saved || (saved.outputs?.length ?? 0) > 0) {
        return;
      }
      try {
        const reply = await api.canvasNotebook(project.id);
        if (reply.path === panel.context.localPath && !panel.isDisposed) {
          await runCanvasCell(panel, reply);
        }
      } catch (error) {
        Notification.error(
          `Could not show the canvas of "${project.name}" again: ${errorMessage(error)}`,
          { autoClose: false }
        );
      }
    })
  );
}
