import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentEvent, Notification } from './index';
import { HttpBackend, safeLink } from './http';
import { Api } from '../web/api';
import { note as memoryNote } from '../testing/memoryBackend';
import type { SocketLike } from '../web/feed';
import { Tabs, type ChannelLike, type Note } from '../web/tabs';

interface Call {
  method: string;
  path: string;
  body: unknown;
}

/** A hub that answers from `routes` and records every call. */
function fakeHub(routes: Record<string, unknown> = {}) {
  const calls: Call[] = [];
  const fetcher = async (input: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const path = input;
    calls.push({ method, path, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const key = `${method} ${path.split('?')[0]}`;
    const answer = key in routes ? routes[key] : {};
    if (answer instanceof Response) return answer;
    return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { calls, api: new Api('', fetcher) };
}

class FakeSocket implements SocketLike {
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onopen: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close() {
    this.closed = true;
  }
  send(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006, reason = '') {
    this.onclose?.({ code, reason });
  }
}

/** memoryBackend's notification, with a body, and `over` on top. */
const note = (id: number, over: Partial<Notification> = {}): Notification => ({
  ...memoryNote(id, `Subject ${id}`, 'Body'),
  channels: ['inbox', 'desktop', 'web_push'],
  ...over,
});

function backendOn(routes: Record<string, unknown>, focused = true) {
  const hub = fakeHub({ 'GET /v1/inbox': { user: 'ann', unread: 2, seq: 41 }, ...routes });
  const sockets: FakeSocket[] = [];
  const raised: Note[] = [];
  const backend = new HttpBackend({
    api: hub.api,
    tabs: new Tabs(null, null, () => focused),
    openSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    feedUrl: (since) => `ws://hub/v1/feed?since=${since}`,
    notify: (n) => raised.push(n),
  });
  const events: AgentEvent[] = [];
  void backend.onEvent((e) => events.push(e));
  return { backend, hub, sockets, raised, events };
}

/** Lets queued promises (the feed's own GET /v1/inbox) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the web inbox backend over the hub', () => {
  it('lists with the filters as the hub names them, and acts on the hub routes', async () => {
    const { backend, hub } = backendOn({ 'GET /v1/notifications': { items: [note(7)], next: null } });
    const listed = await backend.searchNotifications({ unread_only: true, kind: 'social', tag: 'po-1', text: 'budget q3' }, { created_at: 'x', id: 9 }, 50);
    expect(listed.map((n) => n.id)).toEqual([7]);
    const query = new URLSearchParams(hub.calls[0].path.split('?')[1]);
    expect(Object.fromEntries(query)).toEqual({ limit: '50', before: '9', unread: 'true', module: 'social', tag: 'po-1', q: 'budget q3' });
    await backend.searchNotifications({ unread_only: false, kind: 'social.reply', tag: null, text: null }, null, 10);
    expect(hub.calls[1].path).toBe('/v1/notifications?limit=10&type=social.reply');

    await backend.act({ type: 'mark_read', ids: [7], read: true });
    await backend.act({ type: 'confirm', id: 7, value: 'Y' });
    await backend.act({ type: 'answer', id: 7, text: 'Yes' });
    await backend.act({ type: 'delete', ids: [7, 8] });
    await backend.act({ type: 'read_all' });
    await backend.act({ type: 'set_do_not_disturb', until: null });
    expect(hub.calls.slice(2).map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/v1/notifications/read', { ids: [7], read: true }],
      ['POST', '/v1/notifications/7/confirm', { value: 'Y' }],
      ['POST', '/v1/notifications/7/answer', { text: 'Yes' }],
      ['DELETE', '/v1/notifications/7', undefined],
      ['DELETE', '/v1/notifications/8', undefined],
      ['POST', '/v1/notifications/read-all', {}],
      ['PUT', '/v1/preferences', { dnd_until: null }],
    ]);
  });

  it('opens the feed from the cursor of the listing and raises one notification per new one', async () => {
    const { backend, sockets, raised, events } = backendOn({});
    const summary = await backend.start();
    await settle();
    expect(summary.unread).toBe(2);
    expect(sockets.map((s) => s.url)).toEqual(['ws://hub/v1/feed?since=41']);
    sockets[0].send({ type: 'caught_up', seq: 41 });
    sockets[0].send({ type: 'change', seq: 42, kind: 'created', notification: note(5, { subject: 'Lunch?' }) });
    expect(raised).toEqual([{ title: 'Lunch?', body: 'Body', show: 5, tag: 'n-5' }]);
    expect(events.some((e) => e.type === 'inbox_changed')).toBe(true);
    expect(await backend.getNotification(5)).toMatchObject({ subject: 'Lunch?' });
    // Not when the user switched browser pop-ups off for its type (desktop toasts are apart).
    sockets[0].send({ type: 'change', seq: 43, kind: 'created', notification: note(6, { channels: ['inbox', 'desktop'] }) });
    expect(raised).toHaveLength(1);
  });

  it('holds notifications during do-not-disturb unless critical', async () => {
    const { backend, sockets, raised } = backendOn({});
    await backend.start();
    await settle();
    sockets[0].send({ type: 'do_not_disturb', quiet_hours: null, dnd_until: new Date(Date.now() + 3_600_000).toISOString() });
    sockets[0].send({ type: 'change', seq: 42, kind: 'created', notification: note(5) });
    sockets[0].send({ type: 'change', seq: 43, kind: 'created', notification: note(6, { priority: 'critical', subject: 'Fire' }) });
    expect(raised.map((n) => n.title)).toEqual(['Fire']);
  });

  it('keeps live events until answered here or elsewhere, raising one notification each', async () => {
    const { backend, sockets, raised, events } = backendOn({});
    await backend.start();
    await settle();
    const later = new Date(Date.now() + 60_000).toISOString();
    const call = { id: 'c1', kind: 'call', title: 'Ann is calling', body: '', actions: [], at: null, expires_at: later };
    sockets[0].send({ type: 'event', ...call });
    sockets[0].send({ type: 'event', ...call, id: 'stale', expires_at: '2020-01-01T00:00:00Z' });
    expect((await backend.agentSnapshot()).live.map((e) => e.id)).toEqual(['c1']);
    expect(raised).toEqual([{ title: 'Ann is calling', body: '', show: null, tag: 'event-c1' }]);
    sockets[0].send({ type: 'event_answered', id: 'c1', action: 'answer', at: later });
    const last = events.filter((e) => e.type === 'live_events').pop();
    expect(last).toEqual({ type: 'live_events', events: [] });
  });

  describe('reconnecting', () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it('reopens the feed after a drop from the last change seen: no gap, no duplicate', async () => {
      const { backend, sockets, events } = backendOn({});
      await backend.start();
      await vi.runOnlyPendingTimersAsync();
      sockets[0].send({ type: 'caught_up', seq: 41 });
      sockets[0].send({ type: 'change', seq: 44, kind: 'read_changed', ids: [1], read: true });
      sockets[0].drop();
      const states = events.filter((e) => e.type === 'connection');
      const offline = states[states.length - 1];
      expect(offline).toMatchObject({ connection: { state: 'offline' } });
      await vi.advanceTimersByTimeAsync(1300);
      expect(sockets.map((s) => s.url)).toEqual(['ws://hub/v1/feed?since=41', 'ws://hub/v1/feed?since=44']);
    });

    it('a snoozed reminder comes back after its snooze, unless answered on another device meanwhile', async () => {
      const { backend, sockets } = backendOn({});
      await backend.start();
      await vi.runOnlyPendingTimersAsync();
      const reminder = { type: 'event', kind: 'reminder', title: 'Stand-up', body: '', actions: [], at: null, expires_at: '2999-01-01T00:00:00Z' };
      sockets[0].send({ ...reminder, id: 'r1' });
      sockets[0].send({ ...reminder, id: 'r2' });
      await backend.snoozeLive('r1', 5);
      await backend.snoozeLive('r2', 5);
      expect((await backend.agentSnapshot()).live).toEqual([]);
      sockets[0].send({ type: 'event_answered', id: 'r2', action: 'done', at: '2026-12-04T10:00:00Z' });
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect((await backend.agentSnapshot()).live.map((e) => e.id)).toEqual(['r1']);
    });

    it('drops a live event once it expires', async () => {
      const { backend, sockets } = backendOn({});
      await backend.start();
      await vi.runOnlyPendingTimersAsync();
      const expires = new Date(Date.now() + 30_000).toISOString();
      sockets[0].send({ type: 'event', id: 's1', kind: 'shutdown', title: 'Shutdown', body: '', actions: [], at: expires, expires_at: expires });
      sockets[0].send({ type: 'event', id: 'r1', kind: 'reminder', title: 'Stand-up', body: '', actions: [], at: null, expires_at: expires });
      await vi.advanceTimersByTimeAsync(29_000);
      expect((await backend.agentSnapshot()).live.map((e) => e.id)).toEqual(['s1', 'r1']);
      await vi.advanceTimersByTimeAsync(2_000);
      expect((await backend.agentSnapshot()).live.map((e) => e.id), 'a reminder stays until answered').toEqual(['r1']);
    });
  });

  it('goes back to sign-in when the hub closes the feed for a revoked device or a signed-out session', async () => {
    const { backend, sockets } = backendOn({});
    const signedOut = vi.fn();
    backend.onsignedout = signedOut;
    await backend.start();
    await settle();
    sockets[0].drop(1008, 'this device was revoked or signed out');
    expect(signedOut).toHaveBeenCalledOnce();
  });

  it('opens only http and https links', () => {
    expect(safeLink('https://crm.example/orders/7')).toBe('https://crm.example/orders/7');
    expect(safeLink('javascript:alert(1)')).toBeNull();
    expect(safeLink('/po/42')).toBeNull();
    expect(safeLink('data:text/html,<b>x</b>')).toBeNull();
  });
});

/** BroadcastChannels of one browser, delivering to every other member. */
function channels() {
  const members: ChannelLike[] = [];
  return () => {
    const channel: ChannelLike = {
      onmessage: null,
      postMessage: (message) => {
        for (const other of members) if (other !== channel) other.onmessage?.({ data: structuredClone(message) });
      },
      close: () => members.splice(members.indexOf(channel), 1),
    };
    members.push(channel);
    return channel;
  };
}

/** Web Locks: the first asker holds it; the next one gets it when it is released. */
function locks() {
  const waiting: Array<() => Promise<void>> = [];
  let held = false;
  const next = () => {
    const run = waiting.shift();
    if (!run) return;
    held = true;
    void run().then(() => {
      held = false;
      next();
    });
  };
  return {
    request: async (_name: string, callback: () => Promise<void>) => {
      waiting.push(callback);
      if (!held) next();
    },
  };
}

describe('tabs of one browser', () => {
  it('share one leader; the focused tab raises each notification, else the leader', async () => {
    const open = channels();
    const lock = locks();
    let focus = 'none';
    const tab = (name: string) => {
      const t = new Tabs(open(), lock, () => focus === name);
      const raised: string[] = [];
      t.onraise = (n) => raised.push(n.title);
      return { t, raised };
    };
    const a = tab('a');
    const b = tab('b');
    a.t.start();
    b.t.start();
    await settle();
    expect([a.t.leader, b.t.leader]).toEqual([true, false]);
    a.t.raise({ title: 'one', body: '', show: 1, tag: 'n-1' });
    b.t.focusChanged(true);
    a.t.raise({ title: 'two', body: '', show: 2, tag: 'n-2' });
    expect([a.raised, b.raised]).toEqual([['one'], ['two']]);
    // The leader's tab closes: the other leads.
    b.t.focusChanged(false);
    a.t.stop();
    await settle();
    expect(b.t.leader).toBe(true);
    b.t.raise({ title: 'three', body: '', show: 3, tag: 'n-3' });
    expect(b.raised).toEqual(['two', 'three']);
  });
});
