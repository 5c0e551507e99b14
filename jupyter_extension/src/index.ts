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

import { Project, StudioAPI } from './api';
import { addCommands, openCanvasWithFeedback } from './launcher';
import { checkGitLfs } from './lfsCheck';
import { notifyError, StudioPanel } from './panel';

export const PLUGIN_ID = 'generative-media-studio:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The studio launcher tile, side panel and startup checks.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [ILauncher, ICommandPalette, IDefaultFileBrowser, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    restorer: ILayoutRestorer | null
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

    const panel = new StudioPanel(api, {
      openCanvas: project => openCanvasWithFeedback(api, docManager, project),
      revealFolder
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

    void app.restored.then(() => checkGitLfs(api));
  }
};

export default plugin;
