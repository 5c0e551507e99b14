/**
 * Open a project's canvas: ask the server for the project notebook (its first cell shows the
 * canvas), open it, and run all its cells once the kernel is ready so the canvas appears.
 * A notebook that is already open is only revealed (its canvas is live already).
 */
import { IDocumentManager } from '@jupyterlab/docmanager';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { StudioAPI } from './api';

export async function openCanvas(
  api: StudioAPI,
  docManager: IDocumentManager,
  projectId: string
): Promise<NotebookPanel | null> {
  const path = await api.canvasNotebook(projectId);
  const alreadyOpen = docManager.findWidget(path) !== undefined;
  const widget = docManager.openOrReveal(path);
  if (!(widget instanceof NotebookPanel)) {
    return null;
  }
  if (alreadyOpen) {
    return widget;
  }
  await widget.context.ready;
  await widget.sessionContext.ready;
  const kernel = widget.sessionContext.session?.kernel;
  if (kernel) {
    // Wait until the kernel answers (or at least is not starting) before running.
    await kernel.info.catch(() => undefined);
  }
  await NotebookActions.runAll(widget.content, widget.sessionContext);
  return widget;
}
