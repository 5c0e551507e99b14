/**
 * The "Studio Project" launcher tile and its command: dialog → POST projects →
 * POST projects/{id}/canvas_notebook → open the notebook and run it.
 */
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { JupyterFrontEnd } from '@jupyterlab/application';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { ILauncher } from '@jupyterlab/launcher';

import { errorMessage, Project, StudioAPI } from './api';
import { openCanvas } from './canvas';
import { askForProject } from './dialog';
import { studioIcon } from './panel';

export namespace CommandIDs {
  export const newProject = 'studio:new-project';
  export const openCanvas = 'studio:open-canvas';
}

export const LAUNCHER_CATEGORY = 'Studio';

export interface CommandOptions {
  api: StudioAPI;
  docManager: IDocumentManager;
  launcher: ILauncher | null;
  palette: ICommandPalette | null;
  /** Called with each project created from the dialog (e.g. to refresh the panel). */
  onCreated: (project: Project) => void;
}

export async function openCanvasWithFeedback(
  api: StudioAPI,
  docManager: IDocumentManager,
  project: Pick<Project, 'id' | 'name'>
): Promise<void> {
  try {
    await openCanvas(api, docManager, project.id);
  } catch (error) {
    Notification.error(`Could not open the canvas of "${project.name}": ${errorMessage(error)}`, {
      autoClose: false
    });
  }
}

export function addCommands(app: JupyterFrontEnd, options: CommandOptions): void {
  const { api, docManager, launcher, palette, onCreated } = options;

  app.commands.addCommand(CommandIDs.newProject, {
    label: args => (args.isPalette ? 'New Studio Project…' : 'Studio Project'),
    caption: 'Create a studio project (a git + LFS repository) and open its canvas',
    icon: args => (args.isPalette ? undefined : studioIcon),
    execute: async () => {
      const values = await askForProject();
      if (!values) {
        return null;
      }
      let project: Project;
      try {
        project = await api.createProject(values);
      } catch (error) {
        Notification.error(`Could not create the project: ${errorMessage(error)}`, {
          autoClose: false
        });
        return null;
      }
      // Two projects may share a title; the folder (unique) is what tells them apart.
      Notification.success(`Project "${project.name}" created in folder ${project.id}.`, {
        autoClose: 6000
      });
      onCreated(project);
      await openCanvasWithFeedback(api, docManager, project);
      return project.id;
    }
  });

  app.commands.addCommand(CommandIDs.openCanvas, {
    label: 'Open Studio Canvas',
    caption: 'Open a studio project canvas notebook (args: projectId)',
    execute: async args => {
      const id = String(args.projectId ?? '');
      if (!id) {
        return;
      }
      await openCanvasWithFeedback(api, docManager, { id, name: String(args.name ?? id) });
    }
  });

  launcher?.add({ command: CommandIDs.newProject, category: LAUNCHER_CATEGORY, rank: 0 });
  palette?.addItem({ command: CommandIDs.newProject, category: LAUNCHER_CATEGORY });
}
