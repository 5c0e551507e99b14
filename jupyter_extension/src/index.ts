/**
 * Generative Media Studio in JupyterLab: the "Studio Project" launcher tile, the Studio side
 * panel, and the git-lfs startup check (PRD §2.2, §3.2). Talks to the `studio_jupyter`
 * server extension (REST under `{base_url}studio/api/v1/`).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker } from '@jupyterlab/notebook';

import { isBroken, Project, StudioAPI } from './api';
import { restoreCanvases } from './canvas';
import { addCommands, openCanvasWithFeedback } from './launcher';
import { checkGitLfs } from './lfsCheck';
import { notifyError, StudioPanel } from './panel';
import { CanvasTabTitles } from './tabTitle';

export const PLUGIN_ID = 'generative-media-studio:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The studio launcher tile, side panel and startup checks.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ILauncher, ICommandPalette, IDefaultFileBrowser, ILayoutRestorer, INotebookTracker],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    restorer: ILayoutRestorer | null,
    notebooks: INotebookTracker | null
  ) => {
    const api = new StudioAPI();

    const revealFolder = async (project: Project): Promise<void> => {
      if (project.path === null || !fileBrowser) {
        return;
      }
      try {
        await fileBrowser.model.cd('/' + project.path.replace(/^\/+/, ''));
        app.shell.activateById(fileBrowser.id);
      } catch (error) {
        notifyError(`Could not reveal "${project.name}"`, error);
      }
    };

    const openFile = async (project: Project, relative: string): Promise<void> => {
      if (project.path === null) {
        return;
      }
      const path = `${project.path.replace(/^\/+|\/+$/g, '')}/${relative}`;
      if (!docManager.openOrReveal(path)) {
        notifyError(`Could not open ${relative}`, new Error('JupyterLab has no viewer for it'));
      }
    };

    const tabTitles = notebooks ? new CanvasTabTitles(api, notebooks) : null;

    const panel = new StudioPanel(api, {
      openCanvas: project => openCanvasWithFeedback(api, docManager, project),
      revealFolder,
      openFile,
      settingsSaved: () => void tabTitles?.refresh()
    });
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, panel.id);

    addCommands(app, {
      api,
      docManager,
      launcher,
      palette,
      onCreated: project => {
        void panel.refresh().then(() => panel.selectProject(project.id));
      }
    });

    // A canvas' "Tab" button: its cell's output opens in a main-area tab of its own (the same
    // widget, another view), where the canvas fills the tab.
    document.addEventListener('studio:open-canvas-tab', event => {
      const target = event.target as Node | null;
      let found = false;
      notebooks?.forEach(notebookPanel => {
        const index = notebookPanel.content.widgets.findIndex(cell => target !== null && cell.node.contains(target));
        if (found || index < 0) {
          return;
        }
        found = true;
        event.preventDefault();
        notebookPanel.content.activeCellIndex = index;
        app.shell.activateById(notebookPanel.id);
        const before = new Set(Array.from(app.shell.widgets('main'), widget => widget.id));
        void app.commands.execute('notebook:create-output-view').then(() => {
          // JupyterLab splits it below the notebook: a tab of its own instead, beside it.
          for (const view of app.shell.widgets('main')) {
            if (!before.has(view.id)) {
              // "Night Market — Canvas" (tabTitle.ts) or the file name, then what this tab is.
              const notebookLabel = notebookPanel.title.label.replace(/ — Canvas$/, '');
              view.title.label = `${notebookLabel} — canvas (full size)`;
              app.shell.add(view, 'main', { mode: 'tab-after', ref: notebookPanel.id });
              app.shell.activateById(view.id);
            }
          }
        });
      });
    });

    void app.restored.then(() => {
      void checkGitLfs(api);
      if (notebooks) {
        const projects = async (): Promise<Project[]> =>
          (await api.listProjects()).filter((p): p is Project => !isBroken(p));
        void restoreCanvases(api, notebooks, projects);
      }
    });
  }
};

export default plugin;
