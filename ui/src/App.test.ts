import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import App from './App.svelte';
import type { AgentEvent, AgentSnapshot, Backend, Before, Notification } from './lib/backend';

// An in-memory Backend: the Rust side is exercised for real by the webview end-to-end test.
class MemoryBackend implements Backend {
  items: Notification[] = [];
  marked: Array<{ ids: number[]; read: boolean }> = [];
  failMarkRead = false;
  handlers: Array<(e: AgentEvent) => void> = [];

  async listNotifications(before: Before | null, limit: number) {
    const older = (n: Notification, b: Before) =>
      n.created_at < b.created_at || (n.created_at === b.created_at && n.id < b.id);
    return this.items.filter((n) => before === null || older(n, before)).slice(0, limit);
  }
  async getNotification(id: number) {
    return this.items.find((n) => n.id === id) ?? null;
  }
  initialShow: number | null = null;
  async takeInitialShow() {
    const show = this.initialShow;
    this.initialShow = null;
    return show;
  }
  async markRead(ids: number[], read: boolean) {
    if (this.failMarkRead) throw { code: 'agent_unavailable', message: 'the Herald agent is not running' };
    this.marked.push({ ids, read });
  }
  snapshot: AgentSnapshot = { connection: { state: 'online' }, unread: null };
  async agentSnapshot() {
    return this.snapshot;
  }
  async onEvent(handler: (e: AgentEvent) => void) {
    this.handlers.push(handler);
    return () => {};
  }
  emit(e: AgentEvent) {
    this.handlers.forEach((h) => h(e));
  }
}

const LOADED_AT = Date.now();

function note(id: number, subject: string, body = '', read = false): Notification {
  return {
    id,
    type: 'general',
    subject,
    body,
    link: null,
    tag: null,
    sub_tag: null,
    priority: 'normal',
    object: null,
    sender: null,
    buttons: [],
    reply: null,
    answer: null,
    channels: ['inbox', 'desktop'],
    expires_at: null,
    // Five minutes ago, and in id order: the inbox pages by (created_at, id), as the mirror does.
    created_at: new Date(LOADED_AT - 5 * 60_000 + id).toISOString(),
    read,
  };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  flushSync();
};

let app: ReturnType<typeof mount> | null = null;
afterEach(() => {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = '';
});

async function render(backend: Backend) {
  const target = document.createElement('div');
  document.body.appendChild(target);
  app = mount(App, { target, props: { backend } });
  await settle();
  return target;
}

describe('inbox window', () => {
  it('lists subject, body, relative time and an unread mark, newest first', async () => {
    const backend = new MemoryBackend();
    backend.items = [
      { ...note(2, 'Task due in 10 minutes', 'Quarterly report'), priority: 'critical', sender: 'ann' },
      note(1, 'Ann replied', '', true),
    ];
    const root = await render(backend);
    const rows = [...root.querySelectorAll('[data-testid="notification"]')];
    expect(rows.map((r) => r.querySelector('.subject')?.textContent)).toEqual(['Task due in 10 minutes', 'Ann replied']);
    expect(rows[0].classList.contains('unread')).toBe(true);
    expect(rows[1].classList.contains('unread')).toBe(false);
    expect(rows[0].querySelector('.body')?.textContent).toBe('Quarterly report');
    expect(rows[0].querySelector('time')?.textContent).toBe('5 min ago');
    expect(rows[0].querySelector('.sender')?.textContent).toBe('ann');
    expect(rows[0].querySelector('.priority')?.textContent).toBe('critical');
    expect(rows[1].querySelector('.sender')).toBeNull();
    expect(rows[1].querySelector('.priority')).toBeNull();
    expect(root.querySelector('[data-testid="unread-count"]')?.textContent).toBe('1 unread');
  });

  it('shows untrusted text as text, never as markup', async () => {
    const backend = new MemoryBackend();
    const attack = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    backend.items = [note(1, attack, '<b>bold?</b>')];
    const root = await render(backend);
    expect(root.querySelector('img')).toBeNull();
    expect(root.querySelector('script')).toBeNull();
    expect(root.querySelector('b')).toBeNull();
    expect(root.querySelector('.subject')?.textContent).toBe(attack);
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it('marks read on click and tells the agent', async () => {
    const backend = new MemoryBackend();
    backend.items = [note(7, 'Approve PO-42')];
    const root = await render(backend);
    root.querySelector<HTMLButtonElement>('[data-testid="notification"] button')!.click();
    await settle();
    expect(backend.marked).toEqual([{ ids: [7], read: true }]);
    expect(root.querySelector('[data-testid="notification"]')!.classList.contains('unread')).toBe(false);
  });

  it('undoes the mark and says why when the agent is not running', async () => {
    const backend = new MemoryBackend();
    backend.failMarkRead = true;
    backend.items = [note(7, 'Approve PO-42')];
    const root = await render(backend);
    root.querySelector<HTMLButtonElement>('[data-testid="notification"] button')!.click();
    await settle();
    expect(root.querySelector('[data-testid="notification"]')!.classList.contains('unread')).toBe(true);
    expect(root.querySelector('[role="alert"]')?.textContent).toContain('not running');
  });

  it('re-reads when the agent says the inbox changed, and shows being offline', async () => {
    const backend = new MemoryBackend();
    const root = await render(backend);
    expect(root.textContent).toContain('No notifications yet');
    backend.items = [note(3, 'Call from Ann Lee')];
    backend.emit({ type: 'inbox_changed', unread: 1 });
    backend.emit({ type: 'connection', connection: { state: 'offline', reason: 'cannot reach the hub', retry_in_ms: 2000 } });
    await settle();
    expect(root.querySelector('.subject')?.textContent).toBe('Call from Ann Lee');
    expect(root.querySelector('[data-testid="connection"]')?.textContent).toContain('Offline');
    backend.emit({ type: 'connection', connection: { state: 'online' } });
    await settle();
    expect(root.querySelector('[data-testid="connection"]')).toBeNull();
  });

  it('shows what the agent said before the page was listening', async () => {
    const backend = new MemoryBackend();
    backend.snapshot = { connection: { state: 'offline', reason: 'the Herald agent is not running', retry_in_ms: null }, unread: null };
    backend.items = [note(1, 'a'), note(2, 'b', '', true)];
    const root = await render(backend);
    expect(root.querySelector('[data-testid="connection"]')?.textContent).toContain('agent is not running');
    expect(root.querySelector('[data-testid="unread-count"]')?.textContent).toBe('1 unread');
  });

  it('never shows an older answer over a newer one', async () => {
    const backend = new MemoryBackend();
    backend.items = [note(1, 'old')];
    const root = await render(backend);
    // The first re-read is slow and answers with the state before the second.
    let releaseSlow: () => void = () => {};
    const slowAnswer = [note(1, 'old')];
    const original = backend.listNotifications.bind(backend);
    let calls = 0;
    backend.listNotifications = async (before, limit) => {
      calls += 1;
      if (calls === 1) {
        await new Promise<void>((r) => (releaseSlow = r));
        return slowAnswer;
      }
      return original(before, limit);
    };
    backend.emit({ type: 'inbox_changed', unread: 1 });
    backend.items = [note(2, 'new'), note(1, 'old')];
    backend.emit({ type: 'inbox_changed', unread: 2 });
    await settle();
    releaseSlow();
    await settle();
    expect([...root.querySelectorAll('.subject')].map((e) => e.textContent)).toEqual(['new', 'old']);
  });

  it('pages older notifications on demand', async () => {
    const backend = new MemoryBackend();
    backend.items = Array.from({ length: 60 }, (_, i) => note(60 - i, `n${60 - i}`));
    const root = await render(backend);
    expect(root.querySelectorAll('[data-testid="notification"]').length).toBe(50);
    root.querySelector<HTMLButtonElement>('.more')!.click();
    await settle();
    expect(root.querySelectorAll('[data-testid="notification"]').length).toBe(60);
    expect(root.querySelector('.more')).toBeNull();
  });

  it('opens a clicked notification whole, its text as text, and closes it', async () => {
    const backend = new MemoryBackend();
    const attack = '<img src=x onerror="window.pwned=3">';
    backend.items = [{ ...note(7, 'Approve PO-42', `line one\nline two ${attack}`), sender: 'Finance' }];
    const root = await render(backend);
    root.querySelector<HTMLButtonElement>('[data-testid="notification"] button')!.click();
    await settle();
    const detail = root.querySelector('[data-testid="detail"]')!;
    expect(detail.querySelector('.subject')?.textContent).toBe('Approve PO-42');
    expect(detail.querySelector('.body')?.textContent).toBe(`line one\nline two ${attack}`);
    expect(detail.querySelector('.sender')?.textContent).toBe('Finance');
    expect(detail.querySelector('img')).toBeNull();
    expect(root.querySelector('[aria-current="true"]')).not.toBeNull();
    expect(backend.marked).toEqual([{ ids: [7], read: true }]);
    detail.querySelector<HTMLButtonElement>('.actions button')!.click();
    await settle();
    expect(backend.marked[backend.marked.length - 1]).toEqual({ ids: [7], read: false });
    root.querySelector<HTMLButtonElement>('[data-testid="detail"] .close')!.click();
    await settle();
    expect(root.querySelector('[data-testid="detail"]')).toBeNull();
  });

  it('shows the notification chosen in the tray, listed or not, and the one it was opened for', async () => {
    const backend = new MemoryBackend();
    backend.items = Array.from({ length: 60 }, (_, i) => note(60 - i, `n${60 - i}`));
    backend.initialShow = 58;
    const root = await render(backend);
    expect(root.querySelector('[data-testid="detail"] .subject')?.textContent).toBe('n58');
    // Far back, not among the 50 listed: fetched.
    backend.emit({ type: 'show_notification', id: 3 });
    await settle();
    expect(root.querySelector('[data-testid="detail"] .subject')?.textContent).toBe('n3');
    expect(backend.marked.map((m) => m.ids)).toEqual([[58], [3]]);
    // One that is gone: nothing changes.
    backend.emit({ type: 'show_notification', id: 999 });
    await settle();
    expect(root.querySelector('[data-testid="detail"] .subject')?.textContent).toBe('n3');
  });

  it('keeps the open one true: changed or deleted in the mirror while far back', async () => {
    const backend = new MemoryBackend();
    backend.items = Array.from({ length: 60 }, (_, i) => note(60 - i, `n${60 - i}`));
    const root = await render(backend);
    backend.emit({ type: 'show_notification', id: 3 });
    await settle();
    expect(root.querySelector('[data-testid="detail"] .subject')?.textContent).toBe('n3');
    backend.items = backend.items.map((n) => (n.id === 3 ? { ...n, subject: 'n3, edited' } : n));
    backend.emit({ type: 'inbox_changed', unread: 59 });
    await settle();
    expect(root.querySelector('[data-testid="detail"] .subject')?.textContent).toBe('n3, edited');
    backend.items = backend.items.filter((n) => n.id !== 3);
    backend.emit({ type: 'inbox_changed', unread: 58 });
    await settle();
    expect(root.querySelector('[data-testid="detail"]')).toBeNull();
  });
});
