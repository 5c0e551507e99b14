/**
 * The Studio side panel: the workspace's projects (open canvas, reveal folder); selecting a
 * project lists its shots; selecting a shot lists its takes with thumbnails, the active one
 * marked. Plain DOM (no framework) so the panel stays small.
 */
import { Notification } from '@jupyterlab/apputils';
import { LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import {
  BrokenProject,
  errorMessage,
  isBroken,
  Project,
  ProjectEntry,
  ProjectSettings,
  SettingsChange,
  Shot,
  StudioAPI,
  StudioApiError,
  Take
} from './api';
import { button, el } from './dom';
import { QueueSection } from './queueView';

export const studioIcon = new LabIcon({
  name: 'generative-media-studio:studio',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm0 2v2h2V6H4zm0 4v4h2v-4H4zm0 6v2h2v-2H4zm14-10v2h2V6h-2zm0 4v4h2v-4h-2zm0 6v2h2v-2h-2zM9 9v6l5-3-5-3z"/>' +
    '</g></svg>'
});

export interface PanelActions {
  openCanvas(project: Project): Promise<void>;
  revealFolder(project: Project): Promise<void>;
  /** Open a file of the project (`relative` to its folder) in a JupyterLab tab. */
  openFile(project: Project, relative: string): Promise<void>;
  /** A project's settings were saved from the panel (e.g. to relabel its canvas tab). */
  settingsSaved?(projectId: string, settings: ProjectSettings): void;
}

type SettingsField = 'title' | 'description' | 'quality' | 'aspect_ratio' | 'frame_rate';

export class StudioPanel extends Widget {
  private projects: ProjectEntry[] = [];
  private selectedProject: string | null = null;
  private selectedShot: string | null = null;
  private objectUrls: string[] = [];
  private readonly projectList: HTMLUListElement;
  private readonly settingsSection: HTMLElement;
  /** The project whose settings form is open (null: none). */
  private settingsProject: string | null = null;
  private readonly shotSection: HTMLElement;
  private readonly queue: QueueSection;
  private readonly takeSection: HTMLElement;
  private readonly statusLine: HTMLElement;
  private generation = 0;
  /** Bumped by every shots render: an older one that resolves late draws nothing. */
  private shotsGeneration = 0;
  /** Bumped whenever the take grid's object URLs are revoked (a new grid, or dispose). */
  private takesGeneration = 0;

  constructor(
    private readonly api: StudioAPI,
    private readonly actions: PanelActions
  ) {
    super();
    this.id = 'studio-panel';
    this.addClass('studio-panel');
    this.title.icon = studioIcon;
    this.title.caption = 'Studio';

    const header = el('header', 'studio-panel-header');
    header.append(el('h2', '', 'Studio'));
    const refresh = el('button', 'jp-ToolbarButtonComponent studio-refresh');
    refresh.type = 'button';
    refresh.title = 'Refresh projects';
    refresh.setAttribute('aria-label', 'Refresh projects');
    refreshIcon.element({ container: refresh, tag: 'span' });
    refresh.addEventListener('click', () => void this.refresh());
    header.append(refresh);

    this.statusLine = el('div', 'studio-status');
    const projectsHeading = el('h3', '', 'Projects');
    this.projectList = el('ul', 'studio-projects');
    this.settingsSection = el('section', 'studio-settings');
    this.shotSection = el('section', 'studio-shots');
    this.queue = new QueueSection(api);
    this.takeSection = el('section', 'studio-takes');
    this.node.append(
      header,
      this.statusLine,
      projectsHeading,
      this.projectList,
      this.settingsSection,
      this.queue.node,
      this.shotSection,
      this.takeSection
    );
  }

  /** Reload the projects (and the selection's shots and takes). */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    this.statusLine.textContent = 'Loading…';
    try {
      const projects = await this.api.listProjects();
      if (generation !== this.generation) {
        return;
      }
      this.projects = projects;
      this.statusLine.textContent = projects.length ? '' : 'No projects yet: use the "Studio Project" launcher tile.';
      if (this.selectedProject && !projects.some(p => p.id === this.selectedProject && !isBroken(p))) {
        this.selectedProject = null;
        this.selectedShot = null;
      }
      if (this.settingsProject && !projects.some(p => p.id === this.settingsProject && !isBroken(p))) {
        this.closeSettings();
      }
      this.renderProjects();
      this.showQueue();
      await this.renderShots();
    } catch (error) {
      if (generation === this.generation) {
        this.statusLine.textContent = `Could not load projects: ${errorMessage(error)}`;
      }
    }
  }

  async selectProject(id: string | null): Promise<void> {
    this.selectedProject = id;
    this.selectedShot = null;
    this.renderProjects();
    this.showQueue();
    await this.renderShots();
  }

  /** The selected project's queue (polled while the panel shows it). */
  private showQueue(): void {
    const project = this.projects.find((p): p is Project => p.id === this.selectedProject && !isBroken(p));
    this.queue.show(project ? project.id : null, project?.name);
  }

  protected onAfterAttach(): void {
    void this.refresh();
  }

  /** Projects made from Python or the CLI meanwhile show up when the panel is shown again. */
  protected onAfterShow(): void {
    void this.refresh();
  }

  protected onBeforeHide(): void {
    this.queue.stop();
  }

  protected onBeforeDetach(): void {
    this.queue.stop();
  }

  dispose(): void {
    this.queue.stop();
    this.revokeObjectUrls();
    super.dispose();
  }

  /** A project that does not open: its folder and why, no actions (it cannot be opened). */
  private renderBroken(project: BrokenProject): HTMLLIElement {
    const item = el('li', 'studio-project studio-mod-broken');
    item.dataset.projectId = project.id;
    item.dataset.broken = 'true';
    item.append(
      el('div', 'studio-project-name', project.id),
      el('div', 'studio-project-meta', 'broken: cannot be opened'),
      el('div', 'studio-project-error', project.error)
    );
    return item;
  }

  private renderProjects(): void {
    this.projectList.replaceChildren(
      ...this.projects.map(entry => {
        if (isBroken(entry)) {
          return this.renderBroken(entry);
        }
        const project: Project = entry;
        const item = el('li', 'studio-project');
        item.dataset.projectId = project.id;
        item.dataset.projectName = project.name;
        item.tabIndex = 0;
        if (project.id === this.selectedProject) {
          item.classList.add('studio-mod-selected');
          item.setAttribute('aria-selected', 'true');
        }
        const name = el('div', 'studio-project-name', project.name);
        // The folder is unique where titles need not be (two "Night Market" projects).
        const meta = el('div', 'studio-project-meta', `${project.id} · ${project.quality} · ${project.aspect_ratio}`);
        meta.title = `Folder ${project.id}`;
        if (project.description) {
          name.title = project.description;
        }
        const buttons = el('div', 'studio-project-actions');
        buttons.append(
          button('Open canvas', 'studio-open-canvas', () => void this.actions.openCanvas(project))
        );
        const reveal = button('Reveal folder', 'studio-reveal-folder', () => void this.actions.revealFolder(project));
        if (project.path === null) {
          reveal.disabled = true;
          reveal.title = 'This project is outside the Jupyter root folder';
        }
        buttons.append(reveal);
        const settings = button('Settings', 'studio-edit-settings', () => void this.toggleSettings(project.id));
        settings.title = 'Title, description, quality, aspect ratio, frame rate';
        settings.setAttribute('aria-expanded', String(project.id === this.settingsProject));
        buttons.append(settings);
        item.append(name, meta, buttons);
        const select = () => void this.selectProject(project.id === this.selectedProject ? null : project.id);
        item.addEventListener('click', select);
        item.addEventListener('keydown', event => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            select();
          }
        });
        return item;
      })
    );
  }

  /** Open (or close) the settings form of a project. */
  async toggleSettings(projectId: string): Promise<void> {
    if (this.settingsProject === projectId) {
      this.closeSettings();
      this.renderProjects();
      return;
    }
    this.settingsProject = projectId;
    this.renderProjects();
    await this.renderSettings(projectId);
  }

  private closeSettings(): void {
    this.settingsProject = null;
    this.settingsSection.replaceChildren();
  }

  /** The form, filled from the server's settings (`notice`: said above it, e.g. a conflict). */
  private async renderSettings(projectId: string, notice = ''): Promise<void> {
    this.settingsSection.replaceChildren(el('div', 'studio-status', 'Loading settings…'));
    let settings: ProjectSettings;
    try {
      settings = await this.api.projectSettings(projectId);
    } catch (error) {
      if (this.settingsProject === projectId) {
        this.settingsSection.replaceChildren(
          el('div', 'studio-status studio-warning', `Could not load the settings: ${errorMessage(error)}`)
        );
      }
      return;
    }
    if (this.settingsProject !== projectId || this.isDisposed) {
      return; // closed, or another project's form, meanwhile
    }
    const form = el('form', 'studio-settings-form');
    form.setAttribute('aria-label', `Settings of ${settings.name}`);
    form.dataset.projectId = projectId;
    form.dataset.version = String(settings.version);
    const message = el('div', 'studio-settings-message', notice);
    message.setAttribute('role', 'status');
    if (notice) {
      message.classList.add('studio-warning');
    }
    const controls = new Map<SettingsField, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>();
    const text = (field: 'title' | 'description', label: string, multiline = false): HTMLLabelElement => {
      const input = multiline ? el('textarea') : el('input');
      input.name = field;
      input.value = settings[field];
      controls.set(field, input);
      const wrap = el('label', 'studio-settings-field', label);
      wrap.append(input);
      return wrap;
    };
    const choice = (field: 'quality' | 'aspect_ratio' | 'frame_rate', label: string): HTMLLabelElement => {
      const select = el('select');
      select.name = field;
      // The current value stays offered even when it is none of the choices (any W:H is valid).
      for (const value of new Set([...settings.choices[field], settings[field]])) {
        const option = el('option', '', value);
        option.value = value;
        select.append(option);
      }
      select.value = settings[field];
      controls.set(field, select);
      const wrap = el('label', 'studio-settings-field', label);
      wrap.append(select);
      return wrap;
    };
    const save = el('button', 'studio-button studio-settings-save', 'Save');
    save.type = 'submit';
    const cancel = button('Cancel', 'studio-settings-cancel', () => {
      this.closeSettings();
      this.renderProjects();
    });
    const actions = el('div', 'studio-project-actions');
    actions.append(save, cancel);
    form.append(
      el('h3', '', `Settings — ${settings.name}`),
      message,
      text('title', 'Title'),
      text('description', 'Description', true),
      choice('quality', 'Quality'),
      choice('aspect_ratio', 'Aspect ratio'),
      choice('frame_rate', 'Frame rate'),
      el('div', 'studio-status', 'The next takes (and a new Assembler) follow these; earlier takes stay as they are.'),
      actions
    );
    form.addEventListener('submit', event => {
      event.preventDefault();
      const change: SettingsChange = { version: settings.version };
      for (const [field, control] of controls) {
        if (control.value !== settings[field]) {
          change[field] = control.value;
        }
      }
      void this.saveSettings(projectId, change, message, save);
    });
    this.settingsSection.replaceChildren(form);
  }

  private async saveSettings(
    projectId: string,
    change: SettingsChange,
    message: HTMLElement,
    save: HTMLButtonElement
  ): Promise<void> {
    if (Object.keys(change).length === 1) {
      message.textContent = 'Nothing changed.';
      return;
    }
    save.disabled = true;
    message.classList.remove('studio-warning');
    message.textContent = 'Saving…';
    let saved: ProjectSettings;
    try {
      saved = await this.api.updateSettings(projectId, change);
    } catch (error) {
      save.disabled = false;
      if (error instanceof StudioApiError && error.status === 409) {
        // Someone saved project.json since the form was filled: show theirs, keep nothing stale.
        await this.renderSettings(
          projectId,
          "These settings were changed elsewhere (the canvas, Python or another tab) since you " +
            'opened them; they are shown as they are now. Apply your change again and save.'
        );
        return;
      }
      message.classList.add('studio-warning');
      message.textContent = `Not saved: ${errorMessage(error)}`;
      return;
    }
    this.actions.settingsSaved?.(projectId, saved);
    await this.refresh();
    if (this.settingsProject === projectId) {
      await this.renderSettings(projectId);
      const again = this.settingsSection.querySelector('.studio-settings-message');
      if (again) {
        again.textContent = 'Saved.';
      }
    }
  }

  private async renderShots(): Promise<void> {
    const projectId = this.selectedProject;
    const generation = ++this.shotsGeneration;
    const stale = () => generation !== this.shotsGeneration || this.isDisposed;
    this.takeSection.replaceChildren();
    this.revokeObjectUrls();
    if (!projectId) {
      this.shotSection.replaceChildren();
      return;
    }
    const project = this.projects.find((p): p is Project => p.id === projectId && !isBroken(p));
    this.shotSection.replaceChildren(el('h3', '', `Shots — ${project?.name ?? ''}`));
    let shots: Shot[];
    try {
      shots = await this.api.listShots(projectId);
    } catch (error) {
      if (!stale()) {
        this.shotSection.append(el('div', 'studio-status', `Could not load shots: ${errorMessage(error)}`));
      }
      return;
    }
    if (stale() || projectId !== this.selectedProject) {
      return; // another project (or a newer render of this one) owns the section now
    }
    if (!shots.length) {
      this.shotSection.append(el('div', 'studio-status', 'No shots with takes yet.'));
      return;
    }
    const list = el('ul', 'studio-shot-list');
    for (const shot of shots) {
      const key = `${shot.scene}/${shot.shot}`;
      const item = el('li', 'studio-shot');
      item.dataset.scene = String(shot.scene);
      item.dataset.shot = String(shot.shot);
      item.tabIndex = 0;
      if (key === this.selectedShot) {
        item.classList.add('studio-mod-selected');
      }
      item.append(
        el('span', 'studio-shot-name', `Scene ${shot.scene} · Shot ${shot.shot}`),
        el('span', 'studio-shot-count', `${shot.takes} take${shot.takes === 1 ? '' : 's'}`)
      );
      const select = () => {
        this.selectedShot = key;
        for (const other of list.querySelectorAll('.studio-shot')) {
          other.classList.toggle('studio-mod-selected', other === item);
        }
        void this.renderTakes(projectId, shot);
      };
      item.addEventListener('click', select);
      item.addEventListener('keydown', event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          select();
        }
      });
      list.append(item);
    }
    this.shotSection.append(list);
    const selected = shots.find(s => `${s.scene}/${s.shot}` === this.selectedShot);
    if (selected) {
      await this.renderTakes(projectId, selected);
    }
  }

  private async renderTakes(projectId: string, shot: Shot): Promise<void> {
    this.revokeObjectUrls();
    const generation = this.takesGeneration;
    const stale = () => generation !== this.takesGeneration || this.isDisposed;
    this.takeSection.replaceChildren(el('h3', '', `Takes — Scene ${shot.scene} · Shot ${shot.shot}`));
    let takes: Take[];
    let active: string | null;
    let activeProblem: string | null;
    try {
      const reply = await this.api.listTakes(projectId, shot.scene, shot.shot);
      takes = reply.takes;
      active = reply.active;
      activeProblem = reply.active_problem ?? null;
    } catch (error) {
      if (!stale()) {
        this.takeSection.append(el('div', 'studio-status', `Could not load takes: ${errorMessage(error)}`));
      }
      return;
    }
    if (stale()) {
      return; // another shot was chosen meanwhile: its grid, not this one
    }
    if (activeProblem) {
      this.takeSection.append(el('div', 'studio-status studio-warning', activeProblem));
    }
    if (!takes.length) {
      this.takeSection.append(el('div', 'studio-status', 'No takes yet.'));
      return;
    }
    const grid = el('ul', 'studio-take-grid');
    for (const take of takes) {
      const isActive = take.active || take.name === active;
      const broken = typeof take.error === 'string' ? take.error : null;
      const item = el('li', `studio-take${isActive ? ' studio-mod-active' : ''}${broken ? ' studio-mod-broken' : ''}`);
      item.dataset.take = take.name;
      item.title = broken ? `${take.name}: broken (${broken})` : take.name;
      const figure = el('figure');
      const img = el('img', 'studio-take-thumbnail');
      img.alt = take.name;
      const caption = el('figcaption', '', take.name);
      if (isActive) {
        item.setAttribute('aria-current', 'true');
      }
      figure.append(img, caption);
      if (isActive) {
        figure.append(el('span', 'studio-active-marker', '★ active'));
      }
      const isVideo = VIDEO_EXTENSIONS.has(take.ext.toLowerCase());
      if (isVideo && take.ready) {
        figure.append(videoPlayButton(take, img));
      }
      const project = this.projects.find((p): p is Project => p.id === projectId && !isBroken(p));
      if (!isVideo && take.ready && project?.path) {
        // A click opens the take full-size (JupyterLab's image viewer); the media route's
        // URL ends with the take's path inside the project.
        const relative = decodeURIComponent(take.url.split('/media/')[1] ?? '');
        figure.classList.add('studio-mod-openable');
        figure.title = `${take.name}: click to open it in a tab`;
        figure.addEventListener('click', event => {
          event.stopPropagation();
          void this.actions.openFile(project, relative);
        });
      }
      item.append(figure);
      grid.append(item);
      const source = take.thumbnail_url ?? take.url;
      this.api
        .objectUrl(source)
        .then(url => {
          if (stale()) {
            URL.revokeObjectURL(url); // its grid is gone: nobody will revoke it later
            return;
          }
          this.objectUrls.push(url);
          img.src = url;
        })
        .catch(() => {
          img.replaceWith(el('div', 'studio-take-missing', 'no preview'));
        });
    }
    this.takeSection.append(grid);
  }

  private revokeObjectUrls(): void {
    this.takesGeneration++;
    for (const url of this.objectUrls) {
      URL.revokeObjectURL(url);
    }
    this.objectUrls = [];
  }
}

/** Take extensions played as video (studio/project/thumbnails.py, VIDEO_EXTENSIONS). */
const VIDEO_EXTENSIONS = new Set(['mp4', 'mov', 'm4v', 'mkv', 'webm', 'avi', 'mxf']);

/** A play button over a video take's poster: the video streams from the media route (byte
 * ranges, so it starts at once and seeks) only when asked for. */
function videoPlayButton(take: Take, poster: HTMLImageElement): HTMLButtonElement {
  const play = el('button', 'studio-take-play', '▶');
  play.title = `Play ${take.name}`;
  play.setAttribute('aria-label', `Play ${take.name}`);
  play.addEventListener('click', event => {
    event.stopPropagation();
    const video = el('video', 'studio-take-video');
    video.controls = true;
    video.autoplay = true;
    video.muted = true;
    video.loop = true;
    video.playsInline = true;
    if (poster.src) {
      video.poster = poster.src;
    }
    video.src = take.url;
    video.addEventListener('error', () => {
      video.replaceWith(el('div', 'studio-take-missing', 'cannot play this video here'));
    });
    poster.replaceWith(video);
    play.remove();
  });
  return play;
}

export function notifyError(prefix: string, error: unknown): void {
  Notification.error(`${prefix}: ${errorMessage(error)}`, { autoClose: 10000 });
}
