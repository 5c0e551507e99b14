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
import { Notebook, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { StudioAPI } from './api';

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
    return widget;
  }
  await widget.sessionContext.ready;
  const kernel = widget.sessionContext.session?.kernel;
  if (kernel) {
    // Wait until the kernel answers (or at least is not starting) before running.
    await kernel.info.catch(() => undefined);
  }
  await NotebookActions.runCells(notebook, [cell], widget.sessionContext);
  widget.node.dataset.studioCanvasRun = 'ran';
  return widget;
}
