/**
 * The side panel's small DOM helpers (the panel and its Queue section build plain DOM: no
 * framework in the lab extension).
 */

/** An element with a class and a text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

/** A studio button; its click does not reach the card it sits on. */
export function button(label: string, className: string, onClick: () => void): HTMLButtonElement {
  const node = el('button', `studio-button ${className}`, label);
  node.type = 'button';
  node.addEventListener('click', event => {
    event.stopPropagation();
    onClick();
  });
  return node;
}
