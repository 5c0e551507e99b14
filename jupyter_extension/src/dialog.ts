/**
 * The "New Studio Project" dialog: title, description, quality and aspect ratio. An empty
 * title re-opens the dialog with a validation message (values kept).
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  ASPECT_RATIOS,
  DEFAULT_ASPECT_RATIO,
  DEFAULT_QUALITY,
  NewProject,
  QUALITIES,
  Quality
} from './api';

export interface ProjectFormValues {
  name: string;
  description: string;
  quality: Quality;
  aspect_ratio: string;
}

const EMPTY: ProjectFormValues = {
  name: '',
  description: '',
  quality: DEFAULT_QUALITY,
  aspect_ratio: DEFAULT_ASPECT_RATIO
};

function field(label: string, control: HTMLElement): HTMLLabelElement {
  const node = document.createElement('label');
  node.className = 'studio-form-field';
  const text = document.createElement('span');
  text.textContent = label;
  node.append(text, control);
  return node;
}

function select(name: string, options: readonly string[], value: string): HTMLSelectElement {
  const node = document.createElement('select');
  node.name = name;
  node.className = 'jp-mod-styled';
  for (const option of options) {
    const item = document.createElement('option');
    item.value = option;
    item.textContent = option;
    node.append(item);
  }
  node.value = value;
  return node;
}

/** The dialog's body; `getValue()` is what the dialog resolves with. */
export class ProjectForm extends Widget implements Dialog.IBodyWidget<ProjectFormValues> {
  private readonly title_: HTMLInputElement;
  private readonly description_: HTMLTextAreaElement;
  private readonly quality_: HTMLSelectElement;
  private readonly aspect_: HTMLSelectElement;

  constructor(values: ProjectFormValues = EMPTY, error = '') {
    super();
    this.addClass('studio-project-form');
    this.title_ = document.createElement('input');
    this.title_.name = 'name';
    this.title_.className = 'jp-mod-styled';
    this.title_.placeholder = 'My film';
    this.title_.value = values.name;
    this.description_ = document.createElement('textarea');
    this.description_.name = 'description';
    this.description_.className = 'jp-mod-styled';
    this.description_.rows = 3;
    this.description_.value = values.description;
    this.quality_ = select('quality', QUALITIES, values.quality);
    const ratios = ASPECT_RATIOS.includes(values.aspect_ratio as (typeof ASPECT_RATIOS)[number])
      ? ASPECT_RATIOS
      : [...ASPECT_RATIOS, values.aspect_ratio];
    this.aspect_ = select('aspect_ratio', ratios, values.aspect_ratio);
    const message = document.createElement('div');
    message.className = 'studio-form-error';
    message.setAttribute('role', 'alert');
    message.textContent = error;
    message.hidden = !error;
    if (error) {
      this.title_.setAttribute('aria-invalid', 'true');
      message.id = 'studio-project-form-error';
      this.title_.setAttribute('aria-describedby', message.id);
    }
    this.node.append(
      field('Title', this.title_),
      field('Description', this.description_),
      field('Quality', this.quality_),
      field('Aspect ratio', this.aspect_),
      message
    );
  }

  /** Focus the title when the dialog opens. */
  get initialFocus(): HTMLElement {
    return this.title_;
  }

  getValue(): ProjectFormValues {
    return {
      name: this.title_.value.trim(),
      description: this.description_.value.trim(),
      quality: this.quality_.value as Quality,
      aspect_ratio: this.aspect_.value
    };
  }
}

/** Why `values` cannot be submitted, or '' when they can. */
export function validate(values: ProjectFormValues): string {
  if (!values.name) {
    return 'Please enter a title for the project.';
  }
  return '';
}

/** Ask for a new project; null when cancelled. */
export async function askForProject(
  initial: ProjectFormValues = EMPTY,
  initialError = ''
): Promise<NewProject | null> {
  let values = initial;
  let error = initialError;
  for (;;) {
    const body = new ProjectForm(values, error);
    const result = await showDialog<ProjectFormValues>({
      title: 'New Studio Project',
      body,
      focusNodeSelector: 'input[name="name"]',
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Create' })]
    });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    values = result.value;
    error = validate(values);
    if (!error) {
      const project: NewProject = {
        name: values.name,
        quality: values.quality,
        aspect_ratio: values.aspect_ratio
      };
      if (values.description) {
        project.description = values.description;
      }
      return project;
    }
  }
}
