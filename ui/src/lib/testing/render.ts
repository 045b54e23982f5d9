// Mounting the inbox window in jsdom for a test, and waiting for it to settle.
import { flushSync, mount, unmount, type Component } from 'svelte';
import { afterEach } from 'vitest';
import App from '../../App.svelte';
import type { Backend } from '../backend';

export const settle = async () => {
  for (let i = 0; i < 8; i++) await new Promise((r) => setTimeout(r, 0));
  flushSync();
};

let app: ReturnType<typeof mount> | null = null;
afterEach(() => {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = '';
});

/** The inbox window (or `window`) over `backend`, searching as soon as typing stops (no pause). */
export async function render(
  backend: Backend,
  window: Component<{ backend: Backend; searchDelay?: number }> = App,
): Promise<HTMLElement> {
  const target = document.createElement('div');
  document.body.appendChild(target);
  app = mount(window, { target, props: { backend, searchDelay: 0 } });
  await settle();
  return target;
}

export function press(key: string, init: KeyboardEventInit = {}, target: EventTarget = window) {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }));
}

export const subjects = (root: ParentNode) =>
  [...root.querySelectorAll('[data-testid="notification"] .subject')].map((e) => e.textContent);

export const row = (root: ParentNode, id: number) =>
  root.querySelector<HTMLButtonElement>(`[data-testid="notification"][data-id="${id}"] button`)!;

/** Scrolls the list's viewport (jsdom lays nothing out, so the position is set by hand). */
export function scrollList(root: ParentNode, top: number) {
  const viewport = root.querySelector<HTMLElement>('[data-testid="list"]')!;
  Object.defineProperty(viewport, 'scrollTop', { value: top, writable: true, configurable: true });
  viewport.dispatchEvent(new Event('scroll'));
}
