/**
 * The startup check of PRD §3.2: the studio keeps renders in Git LFS; without git-lfs a
 * project cannot be created. Warn visibly (no auto-close) with the install instructions.
 */
import { Notification } from '@jupyterlab/apputils';

import { errorMessage, Status, StudioAPI } from './api';

export const GIT_LFS_HELP_URL = 'https://git-lfs.com';

export function gitLfsMessage(status: Status): string {
  const detail = status.git_lfs.message?.trim();
  return (
    'Git LFS is not available. ' +
    (detail ||
      'Studio projects keep their renders in Git LFS: install it (Debian/Ubuntu: sudo apt-get ' +
        'install git-lfs; macOS: brew install git-lfs), then run "git lfs install".')
  );
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
  const problems: string[] = [];
  if (!status.git.ok) {
    problems.push(status.git.message?.trim() || 'git is not installed.');
  }
  if (!status.git_lfs.ok) {
    problems.push(gitLfsMessage(status));
  }
  if (!problems.length) {
    return null;
  }
  const id: string = Notification.error(problems.join(' '), {
    autoClose: false,
    actions: [
      {
        label: 'Install instructions',
        caption: GIT_LFS_HELP_URL,
        displayType: 'link',
        callback: () => {
          window.open(GIT_LFS_HELP_URL, '_blank', 'noopener');
        }
      },
      {
        label: 'Check again',
        displayType: 'accent',
        callback: event => {
          event.preventDefault();
          Notification.dismiss(id);
          void checkGitLfs(api).then(next => {
            if (next === null) {
              Notification.success('Git LFS found: the studio is ready.', { autoClose: 5000 });
            }
          });
        }
      }
    ]
  });
  return id;
}
