// The quick panel: live events answered and snoozed in place, the latest notifications
// confirmed, replied to and read in place, a toast's Reply landing in the right box.
import { describe, expect, it } from 'vitest';
import type { LiveEvent } from './lib/backend';
import { MemoryBackend, note } from './lib/testing/memoryBackend';
import { press, render, settle } from './lib/testing/render';
import Panel from './Panel.svelte';

function live(id: string, kind: LiveEvent['kind'], title: string, actions: LiveEvent['actions'] = []): LiveEvent {
  return { id, kind, title, body: '', actions, at: null, expires_at: new Date(Date.now() + 60_000).toISOString() };
}

const items = (root: ParentNode) => [...root.querySelectorAll('[data-testid="panel-item"] .subject')].map((e) => e.textContent);

describe('quick panel', () => {
  it('lists live events, then the latest notifications', async () => {
    const backend = new MemoryBackend();
    backend.items = Array.from({ length: 30 }, (_, i) => note(30 - i, `n${30 - i}`));
    backend.snapshot = { ...backend.snapshot, live: [live('c1', 'call', 'Ann Lee is calling')] };
    const root = await render(backend, Panel);
    expect(root.querySelector('[data-testid="live"] .title')?.textContent).toBe('Ann Lee is calling');
    expect(items(root)).toHaveLength(20);
    expect(items(root)[0]).toBe('n30');
  });

  it('answers a call and snoozes a reminder in place; the agent brings a snoozed one back', async () => {
    const backend = new MemoryBackend();
    const call = live('c1', 'call', 'Ann Lee is calling', [
      { value: 'answer', label: 'Answer', style: 'accept' },
      { value: 'decline', label: 'Decline', style: 'cancel' },
    ]);
    const reminder = live('r1', 'reminder', 'Stand-up in 5 minutes', [{ value: 'done', label: 'Done', style: 'default' }]);
    backend.snapshot = { ...backend.snapshot, live: [call, reminder] };
    const root = await render(backend, Panel);
    const card = (id: string) => root.querySelector(`[data-testid="live"][data-id="${id}"]`);
    card('c1')!.querySelectorAll<HTMLButtonElement>('[data-testid="live-action"]')[1].click();
    await settle();
    expect(backend.actions).toEqual([{ type: 'respond_to_event', event_id: 'c1', action: 'decline' }]);
    expect(card('c1')).toBeNull();
    const snoozes = [...card('r1')!.querySelectorAll<HTMLButtonElement>('[data-testid="snooze"]')];
    expect(snoozes.map((b) => b.textContent)).toEqual(['Snooze 5 min', 'Snooze 1 h']);
    snoozes[1].click();
    await settle();
    expect(backend.snoozes).toEqual([['r1', 60]]);
    expect(card('r1')).toBeNull();
    // The snooze is over: the agent lists it again.
    backend.emit({ type: 'live_events', events: [reminder] });
    await settle();
    expect(card('r1')).not.toBeNull();
  });

  it("opens at a toast's Reply: the box focused, Enter sends", async () => {
    const backend = new MemoryBackend();
    backend.items = [note(2, 'Newer'), { ...note(1, 'Ann: lunch at 12?'), reply: { placeholder: 'Answer Ann' } }];
    const root = await render(backend, Panel);
    backend.open({ window: 'panel', at: null, reply_to: 1 });
    await settle();
    const box = root.querySelector<HTMLTextAreaElement>('[data-testid="reply"]')!;
    expect(document.activeElement).toBe(box);
    box.value = 'Yes!';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    press('Enter', {}, box);
    await settle();
    expect(backend.actions).toEqual([{ type: 'answer', id: 1, text: 'Yes!' }]);
    expect(root.querySelector('[data-testid="answer"]')?.textContent).toBe('You replied: Yes!');
    expect(root.querySelector('[data-testid="reply"]')).toBeNull();
  });

  it('confirms and marks read in place, opens the inbox at one, and Esc hides it', async () => {
    const backend = new MemoryBackend();
    backend.items = [
      { ...note(2, 'Approve PO-42'), buttons: [{ value: 'Y', label: 'Approve', style: 'accept' }] },
      note(1, 'FYI'),
    ];
    const root = await render(backend, Panel);
    const item = (id: number) => root.querySelector(`[data-testid="panel-item"][data-id="${id}"]`)!;
    expect(item(2).querySelector('[data-testid="mark-read"]')).toBeNull();
    item(2).querySelector<HTMLButtonElement>('[data-testid="confirm"]')!.click();
    item(1).querySelector<HTMLButtonElement>('[data-testid="mark-read"]')!.click();
    await settle();
    expect(backend.actions).toEqual([
      { type: 'confirm', id: 2, value: 'Y' },
      { type: 'mark_read', ids: [1], read: true },
    ]);
    expect(item(2).querySelector('[data-testid="answer"]')?.textContent).toBe('You answered Approve');
    item(1).querySelector<HTMLButtonElement>('.open')!.click();
    await settle();
    expect(backend.opensAsked).toEqual([{ window: 'inbox', show: 1 }]);
    expect(backend.dismissed).toBe(1);
    press('Escape');
    await settle();
    expect(backend.dismissed).toBe(2);
  });

  it("keeps a toast's Reply box for an older notification through a re-read", async () => {
    const backend = new MemoryBackend();
    backend.items = Array.from({ length: 30 }, (_, i) => ({ ...note(30 - i, `n${30 - i}`), reply: { placeholder: '' } }));
    const root = await render(backend, Panel);
    backend.open({ window: 'panel', at: null, reply_to: 3 });
    await settle();
    const box = () => root.querySelector(`[data-testid="panel-item"][data-id="3"] [data-testid="reply"]`);
    expect(box()).not.toBeNull();
    backend.emit({ type: 'inbox_changed', unread: 30 });
    await settle();
    expect(box()).not.toBeNull();
  });
});
