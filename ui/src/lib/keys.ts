// The inbox's keyboard, as a pure mapping from a key press to what it asks for, so it is tested
// without a DOM. Letters act only outside text fields; Esc works everywhere.

export type KeyCommand =
  | { type: 'move'; by: 1 | -1; extend: boolean }
  | { type: 'open' }
  | { type: 'reply' }
  | { type: 'toggle_read' }
  | { type: 'delete' }
  | { type: 'search' }
  | { type: 'pick' }
  | { type: 'escape' };

export interface KeyPress {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

export function keyCommand(press: KeyPress, inTextField: boolean): KeyCommand | null {
  if (press.key === 'Escape') return { type: 'escape' };
  // Shortcuts of the system and the webview (copy, find, reload) stay theirs.
  if (inTextField || press.ctrlKey || press.metaKey || press.altKey) return null;
  switch (press.key) {
    case 'j':
    case 'J':
    case 'ArrowDown':
      return { type: 'move', by: 1, extend: press.shiftKey };
    case 'k':
    case 'K':
    case 'ArrowUp':
      return { type: 'move', by: -1, extend: press.shiftKey };
    case 'Enter':
      return { type: 'open' };
    case 'r':
      return { type: 'reply' };
    case 'e':
      return { type: 'toggle_read' };
    case '#':
    case 'Delete':
      return { type: 'delete' };
    case '/':
      return { type: 'search' };
    case 'x':
      return { type: 'pick' };
    default:
      return null;
  }
}

/** Whether key presses now go to a field the user types in (then letters are text). */
export function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit'].includes(target.type);
}

/** Whether Enter on `target` is the element's own (a button, a link, a control with such a role). */
export function pressedByEnter(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLButtonElement || target.tagName === 'SUMMARY') return true;
  if (target instanceof HTMLInputElement && ['submit', 'button', 'reset', 'checkbox', 'radio'].includes(target.type)) return true;
  if (target instanceof HTMLAnchorElement && target.hasAttribute('href')) return true;
  return ['button', 'link', 'menuitem', 'tab', 'checkbox', 'switch'].includes(target.getAttribute('role') ?? '');
}
