/**
 * The Queue section of the Studio side panel (issue 14 item 5): the selected project's jobs
 * (running, queued in starting order, recently finished) with their state, node / shot,
 * sweep and age; Cancel per job, "Cancel sweep" for a sweep's jobs, "Move to front" for
 * queued ones, and Pause / Resume of the project's queue. Polled while shown; every action
 * goes to the studio service through the REST API, and its answer (or refusal) is said above
 * the list.
 */
import { errorMessage, QueueJob, QueueView, StudioAPI } from './api';
import { button, el } from './dom';

export const QUEUE_POLL_MS = 2000;

function shotLabel(job: QueueJob): string {
  if (job.scene === null || job.shot === null) {
    return job.node_id;
  }
  return `${job.node_id} · Sc ${job.scene} Sh ${job.shot}`;
}

export class QueueSection {
  readonly node: HTMLElement;
  private projectId: string | null = null;
  private timer: number | null = null;
  private generation = 0;
  private readonly message: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly api: StudioAPI) {
    this.node = el('section', 'studio-queue');
    this.message = el('div', 'studio-queue-message');
    this.message.setAttribute('role', 'status');
    this.body = el('div', 'studio-queue-body');
  }

  /** Show the queue of `projectId` (null: hide it), polled while shown. */
  show(projectId: string | null, title = ''): void {
    if (projectId !== this.projectId) {
      this.message.textContent = '';
      this.body.replaceChildren();
    }
    this.projectId = projectId;
    this.stop();
    if (!projectId) {
      this.node.replaceChildren();
      return;
    }
    this.node.replaceChildren(el('h3', '', `Queue — ${title || projectId}`), this.message, this.body);
    void this.poll();
  }

  /** Stop polling (the panel is hidden or disposed). */
  stop(): void {
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private async poll(): Promise<void> {
    const projectId = this.projectId;
    if (!projectId) {
      return;
    }
    await this.load(projectId);
    if (projectId === this.projectId && this.node.isConnected) {
      this.stop();
      this.timer = window.setTimeout(() => void this.poll(), QUEUE_POLL_MS);
    }
  }

  private async load(projectId: string): Promise<void> {
    const generation = ++this.generation;
    try {
      const view = await this.api.queue(projectId);
      if (generation === this.generation && projectId === this.projectId) {
        this.render(projectId, view);
      }
    } catch (error) {
      if (generation === this.generation && projectId === this.projectId) {
        this.say(`Could not load the queue: ${errorMessage(error)}`, true);
      }
    }
  }

  private say(text: string, warning = false): void {
    this.message.textContent = text;
    this.message.classList.toggle('studio-warning', warning);
  }

  /** Run an operation; its view is drawn and its message said (a refusal, as a warning). */
  private async run(projectId: string, operation: () => Promise<QueueView>, refused: string): Promise<void> {
    try {
      const view = await operation();
      ++this.generation; // a poll answered before this operation must not draw over it
      if (projectId === this.projectId) {
        this.render(projectId, view);
        this.say(view.message ?? '');
      }
    } catch (error) {
      if (projectId === this.projectId) {
        this.say(`${refused}: ${errorMessage(error)}`, true);
      }
    }
  }

  private render(projectId: string, view: QueueView): void {
    const { running, queued, finished } = view.counts;
    const head = el('div', 'studio-queue-head');
    const state = el(
      'span',
      `studio-queue-state${view.paused ? ' studio-mod-paused' : ''}`,
      view.paused ? 'Paused: running jobs finish, queued ones wait' : 'Running'
    );
    state.dataset.paused = String(view.paused);
    const toggle = view.paused
      ? button('Resume', 'studio-queue-resume', () =>
          void this.run(projectId, () => this.api.setQueuePaused(projectId, false), 'Not resumed')
        )
      : button('Pause', 'studio-queue-pause', () =>
          void this.run(projectId, () => this.api.setQueuePaused(projectId, true), 'Not paused')
        );
    head.append(state, toggle, el('span', 'studio-queue-counts', `${running} running · ${queued} queued · ${finished} finished`));
    if (!view.jobs.length) {
      this.body.replaceChildren(head, el('div', 'studio-status', 'No jobs yet: Generate on the canvas, or run a sweep.'));
      return;
    }
    const list = el('ul', 'studio-queue-list');
    for (const job of view.jobs) {
      const item = el('li', `studio-queue-job studio-mod-${job.phase}`);
      item.dataset.jobId = job.job_id;
      item.dataset.phase = job.phase;
      item.dataset.state = job.state;
      if (job.sweep_id) {
        item.dataset.sweepId = job.sweep_id;
      }
      const line = el('div', 'studio-queue-line');
      const status = el('span', 'studio-queue-status', job.status);
      status.title = job.status; // a failure's whole message (the line shows its start)
      line.append(
        status,
        el('span', 'studio-queue-kind', job.kind),
        el('span', 'studio-queue-age', job.age)
      );
      const meta = el('div', 'studio-queue-meta', shotLabel(job));
      if (job.sweep_id) {
        meta.append(el('span', 'studio-queue-sweep', ` · sweep ${job.sweep_id} #${job.sweep_cell ?? ''}`));
      }
      if (job.moved_to_front && job.phase === 'queued') {
        meta.append(el('span', 'studio-queue-front', ' · moved to front'));
      }
      meta.title = `job ${job.job_id}`;
      item.append(line, meta);
      if (job.state === 'failed' && job.error) {
        // Why it failed, readable without hovering (a few lines; the whole text on hover).
        const error = el('div', 'studio-queue-error', job.error);
        error.title = job.error;
        item.append(error);
      }
      if (job.phase !== 'finished') {
        const buttons = el('div', 'studio-project-actions');
        if (job.phase === 'queued') {
          const move = button('Move to front', 'studio-queue-move', () =>
            void this.run(projectId, () => this.api.moveToFront(projectId, job.job_id), 'Not moved')
          );
          if (job.cancel_requested) {
            move.disabled = true; // it will not start: moving it would do nothing
            move.title = 'Canceled: it will not start';
          }
          buttons.append(move);
        }
        const cancel = button('Cancel', 'studio-queue-cancel', () =>
          void this.run(projectId, () => this.api.cancelQueued(projectId, { job_id: job.job_id }), 'Not canceled')
        );
        cancel.disabled = job.cancel_requested;
        buttons.append(cancel);
        const sweepId = job.sweep_id;
        if (sweepId) {
          buttons.append(
            button('Cancel sweep', 'studio-queue-cancel-sweep', () =>
              void this.run(projectId, () => this.api.cancelQueued(projectId, { sweep_id: sweepId }), 'Sweep not canceled')
            )
          );
        }
        item.append(buttons);
      }
      list.append(item);
    }
    this.body.replaceChildren(head, list);
  }
}
