import { describe, expect, it } from 'vitest';
import { keyCommand, pressedByEnter } from './keys';

const press = (key: string, mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe('inbox keys', () => {
  it('maps the documented keys', () => {
    expect(keyCommand(press('j'), false)).toEqual({ type: 'move', by: 1, extend: false });
    expect(keyCommand(press('K', { shiftKey: true }), false)).toEqual({ type: 'move', by: -1, extend: true });
    expect(keyCommand(press('Enter'), false)).toEqual({ type: 'open' });
    expect(keyCommand(press('r'), false)).toEqual({ type: 'reply' });
    expect(keyCommand(press('e'), false)).toEqual({ type: 'toggle_read' });
    expect(keyCommand(press('#', { shiftKey: true }), false)).toEqual({ type: 'delete' });
    expect(keyCommand(press('/'), false)).toEqual({ type: 'search' });
    expect(keyCommand(press('Escape'), false)).toEqual({ type: 'escape' });
    expect(keyCommand(press('q'), false)).toBeNull();
  });

  it('leaves typing and system shortcuts alone', () => {
    expect(keyCommand(press('j'), true)).toBeNull();
    expect(keyCommand(press('/'), true)).toBeNull();
    expect(keyCommand(press('Escape'), true)).toEqual({ type: 'escape' });
    expect(keyCommand(press('r', { ctrlKey: true }), false)).toBeNull();
    expect(keyCommand(press('e', { metaKey: true }), false)).toBeNull();
  });

  it('leaves Enter to buttons and links, not to the page or a list item', () => {
    const link = document.createElement('a');
    link.href = '#settings';
    expect(pressedByEnter(link)).toBe(true);
    expect(pressedByEnter(document.createElement('button'))).toBe(true);
    expect(pressedByEnter(document.createElement('a')), 'an anchor without href is not a link').toBe(false);
    expect(pressedByEnter(document.body)).toBe(false);
    const box = document.createElement('input');
    box.type = 'checkbox';
    expect(pressedByEnter(box), 'a checkbox in settings').toBe(true);
    const role = document.createElement('div');
    role.setAttribute('role', 'button');
    expect(pressedByEnter(role)).toBe(true);
  });
});
