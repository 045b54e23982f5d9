// What the user does in the inbox window: search and filters, acting on the open one, many at
// once, and the keyboard.
import { describe, expect, it } from 'vitest';
import type { Notification } from './lib/backend';
import { MemoryBackend, many, note } from './lib/testing/memoryBackend';
import { press, render, row, settle, subjects } from './lib/testing/render';

const detailSubject = (root: ParentNode) => root.querySelector('[data-testid="detail"] .subject')?.textContent ?? null;

function typed(kind: string, id: number, subject: string, extra: Partial<Notification> = {}): Notification {
  return { ...note(id, subject), type: kind, ...extra };
}

describe('search and filters', () => {
  it('searches as the user types, and says when nothing matches', async () => {
    const backend = new MemoryBackend();
    backend.items = [note(3, 'Invoice 42 paid'), note(2, 'Ann replied', 'about the invoice'), note(1, 'Task due')];
    const root = await render(backend);
    const box = root.querySelector<HTMLInputElement>('[data-testid="search"]')!;
    box.value = 'invo';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    await settle();
    expect(subjects(root)).toEqual(['Invoice 42 paid', 'Ann replied']);
    box.value = 'invoice zebra';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    await settle();
    expect(root.querySelector('[data-testid="empty"]')?.textContent).toContain('Nothing matches “invoice zebra”');
    root.querySelector<HTMLButtonElement>('[data-testid="empty"] button')!.click();
    await settle();
    expect(subjects(root)).toHaveLength(3);
    expect(box.value).toBe('');
  });

  it('filters by unread, by module or type, and by a tag chosen on a notification', async () => {
    const backend = new MemoryBackend();
    backend.items = [
      typed('crm.deal', 4, 'Deal won', { tag: 'deal-7' }),
      typed('crm.task', 3, 'Call back'),
      { ...typed('social.reply', 2, 'Ann replied'), read: true },
      typed('crm.deal', 1, 'Deal moved', { tag: 'deal-7' }),
    ];
    const root = await render(backend);
    const unread = root.querySelector<HTMLInputElement>('[data-testid="unread-only"]')!;
    unread.click();
    await settle();
    expect(subjects(root)).toEqual(['Deal won', 'Call back', 'Deal moved']);
    unread.click();
    await settle();

    const type = root.querySelector<HTMLSelectElement>('[data-testid="type-filter"]')!;
    const options = [...type.querySelectorAll('option')].map((o) => `${o.parentElement?.getAttribute('label') ?? ''}:${o.value}`);
    expect(options).toEqual([':', 'crm:crm', 'crm:crm.deal', 'crm:crm.task', 'social:social', 'social:social.reply']);
    type.value = 'crm';
    type.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(subjects(root)).toEqual(['Deal won', 'Call back', 'Deal moved']);
    type.value = 'crm.deal';
    type.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(subjects(root)).toEqual(['Deal won', 'Deal moved']);
    type.value = '';
    type.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();

    row(root, 4).click();
    await settle();
    root.querySelector<HTMLButtonElement>('[data-testid="tag"]')!.click();
    await settle();
    expect(subjects(root)).toEqual(['Deal won', 'Deal moved']);
    root.querySelector<HTMLButtonElement>('[data-testid="tag-filter"]')!.click();
    await settle();
    expect(subjects(root)).toHaveLength(4);
  });
});

describe('acting on the open notification', () => {
  it('answers a confirm request once and shows the answer', async () => {
    const backend = new MemoryBackend();
    const buttons = [
      { value: 'Y', label: 'Approve', style: 'accept' as const },
      { value: 'N', label: 'Reject', style: 'cancel' as const },
    ];
    backend.items = [{ ...note(5, 'Approve PO-42'), buttons }];
    const root = await render(backend);
    row(root, 5).click();
    await settle();
    // Opening does not answer it, so it stays unread.
    expect(backend.marked).toEqual([]);
    const choices = [...root.querySelectorAll<HTMLButtonElement>('[data-testid="confirm"]')];
    expect(choices.map((b) => b.textContent)).toEqual(['Approve', 'Reject']);
    choices[1].click();
    await settle();
    expect(backend.actions).toEqual([{ type: 'confirm', id: 5, value: 'N' }]);
    expect(root.querySelector('[data-testid="answer"]')?.textContent).toBe('You answered Reject');
    expect(root.querySelector('[data-testid="confirm"]')).toBeNull();
  });

  it('sends a reply, and keeps the draft when the agent cannot take it', async () => {
    const backend = new MemoryBackend();
    backend.items = [{ ...note(6, 'Ann asked: lunch?'), reply: { placeholder: 'Answer Ann' } }];
    const root = await render(backend);
    row(root, 6).click();
    await settle();
    const box = root.querySelector<HTMLTextAreaElement>('[data-testid="reply"]')!;
    expect(box.placeholder).toBe('Answer Ann');
    backend.failActs = true;
    box.value = 'Yes, 12:30';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    box.form!.requestSubmit();
    await settle();
    expect(root.querySelector('[role="alert"]')?.textContent).toContain('not running');
    expect(root.querySelector<HTMLTextAreaElement>('[data-testid="reply"]')?.value).toBe('Yes, 12:30');
    backend.failActs = false;
    root.querySelector<HTMLTextAreaElement>('[data-testid="reply"]')!.form!.requestSubmit();
    await settle();
    expect(backend.actions.filter((a) => a.type === 'answer')).toEqual([{ type: 'answer', id: 6, text: 'Yes, 12:30' }]);
    expect(root.querySelector('[data-testid="answer"]')?.textContent).toBe('You replied: Yes, 12:30');
    expect(root.querySelector('[data-testid="reply"]')).toBeNull();
  });

  it('opens only web links, through the agent side, and deletes', async () => {
    const backend = new MemoryBackend();
    backend.items = [
      { ...note(2, 'Deal won'), link: 'https://crm.example/deals/7' },
      { ...note(1, 'Sneaky'), link: 'javascript:alert(1)' },
    ];
    const root = await render(backend);
    row(root, 1).click();
    await settle();
    expect(root.querySelector('[data-testid="open-link"]')).toBeNull();
    row(root, 2).click();
    await settle();
    root.querySelector<HTMLButtonElement>('[data-testid="open-link"]')!.click();
    await settle();
    expect(backend.opened).toEqual([2]);
    root.querySelector<HTMLButtonElement>('[data-testid="delete"]')!.click();
    await settle();
    expect(backend.actions).toContainEqual({ type: 'delete', ids: [2] });
    expect(subjects(root)).toEqual(['Sneaky']);
    expect(root.querySelector('[data-testid="detail"]')).toBeNull();
  });
});

describe('many at once', () => {
  it('shift-click picks a range, ctrl-click one more, and the bar acts on all of them', async () => {
    const backend = new MemoryBackend();
    backend.items = many(6);
    const root = await render(backend);
    row(root, 6).click();
    await settle();
    row(root, 4).dispatchEvent(new MouseEvent('click', { shiftKey: true, bubbles: true }));
    row(root, 1).dispatchEvent(new MouseEvent('click', { ctrlKey: true, bubbles: true }));
    await settle();
    expect(root.querySelector('[data-testid="picked-count"]')?.textContent).toBe('4 selected');
    root.querySelector<HTMLButtonElement>('[data-testid="delete-picked"]')!.click();
    await settle();
    expect(backend.actions).toContainEqual({ type: 'delete', ids: [6, 5, 4, 1] });
    expect(subjects(root)).toEqual(['n3', 'n2']);
    expect(root.querySelector('[data-testid="bulk"]')).toBeNull();
  });

  it('after a delete, a shift-range starts from where the cursor went', async () => {
    const backend = new MemoryBackend();
    backend.items = many(6);
    const root = await render(backend);
    row(root, 6).click();
    await settle();
    press('Escape');
    press('#');
    await settle();
    row(root, 3).dispatchEvent(new MouseEvent('click', { shiftKey: true, bubbles: true }));
    await settle();
    expect(root.querySelector('[data-testid="picked-count"]')?.textContent).toBe('3 selected');
  });

  it('marks all read but leaves unanswered confirm requests', async () => {
    const backend = new MemoryBackend();
    backend.items = [{ ...note(2, 'Approve?'), buttons: [{ value: 'Y', label: 'Yes', style: 'accept' }] }, note(1, 'FYI')];
    const root = await render(backend);
    root.querySelector<HTMLButtonElement>('.read-all')!.click();
    await settle();
    expect(backend.actions).toEqual([{ type: 'read_all' }]);
    const unread = [...root.querySelectorAll('[data-testid="notification"].unread')].map((r) => r.getAttribute('data-id'));
    expect(unread).toEqual(['2']);
  });
});

describe('keyboard', () => {
  it('j/k move, Enter opens, e toggles read, # deletes, Esc closes', async () => {
    const backend = new MemoryBackend();
    backend.items = many(4);
    const root = await render(backend);
    press('j');
    press('j');
    await settle();
    expect(root.querySelector('.cursor')?.getAttribute('data-id')).toBe('3');
    press('Enter');
    await settle();
    expect(detailSubject(root)).toBe('n3');
    expect(backend.marked).toEqual([{ ids: [3], read: true }]);
    // With one open, moving opens the next.
    press('j');
    await settle();
    expect(detailSubject(root)).toBe('n2');
    press('e');
    await settle();
    expect(backend.marked[backend.marked.length - 1]).toEqual({ ids: [2], read: false });
    press('#');
    await settle();
    expect(backend.actions[backend.actions.length - 1]).toEqual({ type: 'delete', ids: [2] });
    expect(root.querySelector('.cursor')?.getAttribute('data-id')).toBe('1');
    press('Escape');
    await settle();
    expect(root.querySelector('[data-testid="detail"]')).toBeNull();
  });

  it('Enter on a focused button presses that button, not the list’s open', async () => {
    const backend = new MemoryBackend();
    backend.items = [note(2, 'b'), note(1, 'a')];
    const root = await render(backend);
    press('j');
    await settle();
    const readAll = root.querySelector<HTMLButtonElement>('.read-all')!;
    readAll.focus();
    press('Enter', {}, readAll);
    await settle();
    expect(root.querySelector('[data-testid="detail"]')).toBeNull();
  });

  it('/ focuses the search, letters then type, Esc clears and leaves it', async () => {
    const backend = new MemoryBackend();
    backend.items = [note(2, 'Invoice paid'), note(1, 'Task due')];
    const root = await render(backend);
    press('/');
    const box = root.querySelector<HTMLInputElement>('[data-testid="search"]')!;
    expect(document.activeElement).toBe(box);
    press('j', {}, box);
    await settle();
    expect(root.querySelector('.cursor')).toBeNull();
    box.value = 'task';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    await settle();
    expect(subjects(root)).toEqual(['Task due']);
    press('Escape', {}, box);
    await settle();
    expect(document.activeElement).not.toBe(box);
    expect(subjects(root)).toEqual(['Invoice paid', 'Task due']);
  });

  it('r opens the reply box; shift+j picks on the way; x picks one', async () => {
    const backend = new MemoryBackend();
    backend.items = [{ ...note(3, 'Lunch?'), reply: { placeholder: '' } }, note(2, 'b'), note(1, 'c')];
    const root = await render(backend);
    press('j');
    press('r');
    await settle();
    expect(document.activeElement).toBe(root.querySelector('[data-testid="reply"]'));
    press('Escape', {}, document.activeElement!);
    press('Escape');
    await settle();
    press('J', { shiftKey: true });
    press('J', { shiftKey: true });
    await settle();
    expect(root.querySelector('[data-testid="picked-count"]')?.textContent).toBe('3 selected');
    press('Escape');
    press('x');
    await settle();
    expect(root.querySelector('[data-testid="picked-count"]')?.textContent).toBe('1 selected');
  });
});
