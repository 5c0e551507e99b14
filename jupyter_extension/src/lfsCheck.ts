/**
 * The startup check of PRD §3.2: the studio keeps renders in Git LFS; without git-lfs (or git)
 * nothing can be written into a project. At startup, ask the server (`GET status`) and, if a
 * tool is missing, show a notification that stays until dismissed, with the install command in
 * its (short) text, the full per-platform instructions one click away, and a re-check.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { errorMessage, Status, StudioAPI } from './api';

/** JupyterLab's toasts show about this many characters of a message. */
const TOAST_CHARS = 140;

const FALLBACK_GIT_LFS =
  'git-lfs is not installed: the studio stores renders through Git LFS.\n' +
  'install git-lfs: sudo apt-get install git-lfs   (Debian/Ubuntu)\n' +
  '    macOS: brew install git-lfs\n' +
  '  then run once: git lfs install';

export interface Problem {
  /** One line for the toast: what is missing and the install command. */
  summary: string;
  /** The server's full message (every platform's command). */
  details: string;
}

function firstInstallLine(message: string): string {
  const lines = message.split('\n').map(line => line.replace(/\s+/g, ' ').trim());
  const line = lines.slice(1).find(text => /install/i.test(text)) ?? lines[0] ?? '';
  return line.charAt(0).toUpperCase() + line.slice(1);
}

export function problems(status: Status): Problem[] {
  const found: Problem[] = [];
  if (!status.git.ok) {
    const details = status.git.message?.trim() || 'git is not installed.';
    found.push({ summary: `git is missing. ${firstInstallLine(details)}`, details });
  }
  if (!status.git_lfs.ok) {
    const details = status.git_lfs.message?.trim() || FALLBACK_GIT_LFS;
    found.push({
      summary: `Git LFS is missing: studio projects cannot be written. ${firstInstallLine(details)}`,
      details
    });
  }
  return found;
}

function showInstructions(found: Problem[]): void {
  const body = new Widget();
  body.addClass('studio-install-instructions');
  const pre = document.createElement('pre');
  pre.textContent = found.map(problem => problem.details).join('\n\n');
  body.node.append(pre);
  void showDialog({
    title: 'Install the tools the studio needs',
    body,
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}

/**
 * Query the server's status and warn when git-lfs (or git) is missing.
 * Returns the notification's id, or null when everything is fine.
 */
export async function checkGitLfs(api: StudioAPI): Promise<string | null> {
  let status: Status;
  try {
    status = await api.status();
  } catch (error) {
    return Notification.warning(
      `The Generative Media Studio server extension did not answer: ${errorMessage(error)}`,
      { autoClose: false }
    );
  }
  const found = problems(status);
  if (!found.length) {
    return null;
  }
  let message = found.map(problem => problem.summary).join(' ');
  if (message.length > TOAST_CHARS) {
    message = found[found.length - 1].summary;
  }
  const id: string = Notification.error(message, {
    autoClose: false,
    actions: [
      {
        label: 'Install instructions',
        caption: 'The install commands for every platform',
        displayType: 'link',
        callback: event => {
          event.preventDefault(); // keep the notification
          showInstructions(found);
        }
      },
      {
        label: 'Check again',
        caption: 'Ask the server again (after installing)',
        displayType: 'accent',
        callback: event => {
          event.preventDefault();
          Notification.dismiss(id);
          void checkGitLfs(api).then(next => {
            if (next === null) {
              Notification.success('git and Git LFS found: the studio is ready.', {
                autoClose: 5000
              });
            }
          });
        }
      }
    ]
  });
  return id;
}
