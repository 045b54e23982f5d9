import { describe, expect, it } from 'vitest';
import { MemoryBackend, many, note } from './lib/testing/memoryBackend';
import { render, scrollList, settle, subjects } from './lib/testing/render';

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
    backend.failActs = true;
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
    backend.snapshot = { connection: { state: 'offline', reason: 'the Herald agent is not running', retry_in_ms: null }, unread: null, live: [] };
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
    const original = backend.searchNotifications.bind(backend);
    let calls = 0;
    backend.searchNotifications = async (filter, before, limit) => {
      calls += 1;
      if (calls === 1) {
        await new Promise<void>((r) => (releaseSlow = r));
        return slowAnswer;
      }
      return original(filter, before, limit);
    };
    backend.emit({ type: 'inbox_changed', unread: 1 });
    backend.items = [note(2, 'new'), note(1, 'old')];
    backend.emit({ type: 'inbox_changed', unread: 2 });
    await settle();
    releaseSlow();
    await settle();
    expect([...root.querySelectorAll('.subject')].map((e) => e.textContent)).toEqual(['new', 'old']);
  });

  it('puts only the rows on screen in the page, and reads older ones as the list nears its end', async () => {
    const backend = new MemoryBackend();
    backend.items = many(100_000);
    const root = await render(backend);
    const shown = () => root.querySelectorAll('[data-testid="notification"]').length;
    expect(subjects(root)[0]).toBe('n100000');
    expect(shown()).toBeLessThan(50);
    const read = backend.searches.length;
    // Down to the last rows read so far: the next page is read, and the rows there are shown.
    scrollList(root, 90 * 60);
    await settle();
    expect(backend.searches.length).toBe(read + 1);
    expect(subjects(root)).toContain('n99900');
    expect(shown()).toBeLessThan(50);
    // Far down, the row height places each row: row i at i * 60 px.
    const list = root.querySelector<HTMLElement>('[data-testid="list"] ul')!;
    expect(list.style.height).toBe(`${200 * 60}px`);
  });

  it('keeps what the user has scrolled to when the inbox changes', async () => {
    const backend = new MemoryBackend();
    backend.items = many(500);
    const root = await render(backend);
    scrollList(root, 180 * 60);
    await settle();
    expect(subjects(root)).toContain('n320');
    backend.items = [note(501, 'new'), ...backend.items];
    backend.emit({ type: 'inbox_changed', unread: 501 });
    await settle();
    expect(subjects(root)).toContain('n320');
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
    detail.querySelector<HTMLButtonElement>('[data-testid="toggle-read"]')!.click();
    await settle();
    expect(backend.marked[backend.marked.length - 1]).toEqual({ ids: [7], read: false });
    root.querySelector<HTMLButtonElement>('[data-testid="detail"] .close')!.click();
    await settle();
    expect(root.querySelector('[data-testid="detail"]')).toBeNull();
  });

  it('shows the notification chosen in the tray, listed or not, and the one it was opened for', async () => {
    const backend = new MemoryBackend();
    backend.items = Array.from({ length: 60 }, (_, i) => note(60 - i, `n${60 - i}`));
    backend.pendingOpen = { window: 'inbox', show: 58 };
    const root = await render(backend);
    expect(root.querySelector('[data-testid="detail"] .subject')?.textContent).toBe('n58');
    // Far back, not among the 50 listed: fetched.
    backend.open({ window: 'inbox', show: 3 });
    await settle();
    expect(root.querySelector('[data-testid="detail"] .subject')?.textContent).toBe('n3');
    expect(backend.marked.map((m) => m.ids)).toEqual([[58], [3]]);
    // One that is gone: nothing changes.
    backend.open({ window: 'inbox', show: 999 });
    await settle();
    expect(root.querySelector('[data-testid="detail"] .subject')?.textContent).toBe('n3');
  });

  it('keeps the open one true: changed or deleted in the mirror while far back', async () => {
    const backend = new MemoryBackend();
    backend.items = Array.from({ length: 60 }, (_, i) => note(60 - i, `n${60 - i}`));
    const root = await render(backend);
    backend.open({ window: 'inbox', show: 3 });
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

  it('says when the synced inbox is from while offline, and how far a catch-up is', async () => {
    const backend = new MemoryBackend();
    backend.synced = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const root = await render(backend);
    const banner = () => root.querySelector('[data-testid="connection"]')?.textContent ?? '';
    backend.emit({ type: 'connection', connection: { state: 'offline', reason: 'cannot reach the hub', retry_in_ms: 1000 } });
    await settle();
    expect(banner()).toContain('showing what was synced 3 h ago');
    backend.emit({ type: 'connection', connection: { state: 'connecting' } });
    backend.emit({ type: 'sync_progress', done: 500, total: 20_000 });
    await settle();
    expect(banner()).toContain('Catching up: 500 of 20,000');
    expect(root.querySelector('progress')?.getAttribute('value')).toBe('500');
    backend.emit({ type: 'connection', connection: { state: 'online' } });
    await settle();
    expect(banner()).toBe('');
  });
});
