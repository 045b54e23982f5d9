// The web inbox's Backend: the same interface the desktop windows use over the agent, here over
// the hub's HTTP API and its WebSocket feed (one per browser, see lib/web/tabs.ts). Nothing of
// Tauri. The list is the hub's own (`GET /v1/notifications`); the feed keeps it live and raises
// browser notifications.
import type {
  Action,
  AgentEvent,
  AgentSnapshot,
  Backend,
  Before,
  ConnectionState,
  InboxFilter,
  LiveEvent,
  Notification,
  OpenWindow,
  Preferences,
  Schema,
  SettingsAnswer,
  SettingsQuestion,
} from './index';
import type { DoNotDisturb } from './generated/DoNotDisturb';
import { Api } from '../web/api';
import { Feed, type Frame, type OpenSocket } from '../web/feed';
import { isQuiet } from '../web/quiet';
import { Tabs, type Note } from '../web/tabs';

export interface Summary {
  user: string;
  unread: number;
  seq: number;
}

export interface Device {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export interface WebParts {
  api: Api;
  tabs: Tabs;
  openSocket: OpenSocket;
  /** Raises a browser notification; clicking it calls `onclick`. */
  notify: (note: Note, onclick: () => void) => void;
  /** The feed's URL for a cursor. */
  feedUrl: (since: number) => string;
}

/** Only http and https links leave the page, in a new tab that cannot reach back (noopener). */
export function safeLink(link: string | null): string | null {
  if (!link) return null;
  try {
    const url = new URL(link);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export class HttpBackend implements Backend {
  readonly api: Api;
  #parts: WebParts;
  #handlers = new Set<(event: AgentEvent) => void>();
  #known = new Map<number, Notification>();
  #live = new Map<string, LiveEvent>();
  #connection: ConnectionState = { state: 'connecting' };
  #unread: number | null = null;
  #open: OpenWindow | null = null;
  #dnd: DoNotDisturb | null = null;
  #syncedAt: string | null = null;
  #feed: Feed | null = null;
  #recount: ReturnType<typeof setTimeout> | null = null;
  #expiry: ReturnType<typeof setTimeout> | null = null;
  /** Snoozed live events, each with the timer that brings it back. */
  #snoozed = new Map<string, ReturnType<typeof setTimeout>>();
  /** Told when the hub ends the session (401, signed out elsewhere, device revoked). */
  onsignedout: () => void = () => {};

  constructor(parts: WebParts) {
    this.#parts = parts;
    this.api = parts.api;
    this.api.onsignedout = () => this.#signedOut();
    parts.tabs.onframe = (frame) => this.#frame(frame);
    parts.tabs.onraise = (note) => parts.notify(note, () => this.#opened(note));
    parts.tabs.onlead = () => void this.#lead();
  }

  /** Lists the summary and joins the browser's tabs (the leader opens the feed). */
  async start(): Promise<Summary> {
    const summary = await this.api.get<Summary>('/v1/inbox');
    this.#setUnread(summary.unread);
    this.#parts.tabs.start();
    return summary;
  }

  stop(): void {
    this.#feed?.stop();
    this.#parts.tabs.stop();
    for (const timer of this.#snoozed.values()) clearTimeout(timer);
    this.#snoozed.clear();
    if (this.#expiry) clearTimeout(this.#expiry);
    if (this.#recount) clearTimeout(this.#recount);
  }

  async #lead(): Promise<void> {
    // The cursor now, not the one the page loaded with: what came since was relayed to this tab.
    let summary: Summary;
    try {
      summary = await this.api.get<Summary>('/v1/inbox');
    } catch {
      summary = { user: '', unread: this.#unread ?? 0, seq: 0 };
    }
    this.#feed?.stop();
    this.#feed = new Feed(
      this.#parts.feedUrl,
      summary.seq,
      this.#parts.openSocket,
      (frame) => this.#parts.tabs.relay(frame),
      (state) => this.#parts.tabs.relay({ type: 'connection', state } as unknown as Frame),
      () => this.#signedOut(),
      () => void this.#lead(),
    );
    this.#feed.start();
  }

  #signedOut(): void {
    this.#feed?.stop();
    this.onsignedout();
  }

  #emit(event: AgentEvent): void {
    for (const handler of this.#handlers) handler(event);
  }

  #setUnread(unread: number): void {
    this.#unread = unread;
    this.#emit({ type: 'inbox_changed', unread });
  }

  /** The unread count after changes: asked once they settle. */
  #recountSoon(): void {
    if (this.#recount) clearTimeout(this.#recount);
    this.#recount = setTimeout(() => {
      this.api.get<Summary>('/v1/inbox').then(
        (summary) => this.#setUnread(summary.unread),
        () => {},
      );
    }, 100);
  }

  #frame(frame: Frame | { type: 'connection'; state: ConnectionState }): void {
    switch (frame.type) {
      case 'connection':
        this.#connection = frame.state;
        if (frame.state.state === 'online') this.#syncedAt = new Date().toISOString();
        this.#emit({ type: 'connection', connection: frame.state });
        if (frame.state.state === 'online') this.#recountSoon();
        break;
      case 'do_not_disturb':
        this.#dnd = { quiet_hours: (frame.quiet_hours as DoNotDisturb['quiet_hours']) ?? null, dnd_until: (frame.dnd_until as string | null) ?? null };
        break;
      case 'change':
        this.#applyChange(frame);
        this.#recountSoon();
        break;
      case 'snapshot':
        for (const n of frame.notifications) this.#known.set(n.id, n);
        this.#recountSoon();
        break;
      case 'event':
        // One that expired on its way (a feed that lagged) is neither listed nor raised.
        if (frame.kind !== 'reminder' && Date.parse(frame.expires_at) <= Date.now()) break;
        this.#live.set(frame.id, frame);
        this.#emitLive();
        this.#maybeRaise({ title: frame.title, body: frame.body, show: null, tag: `event-${frame.id}` }, frame.kind === 'call' || frame.kind === 'shutdown');
        break;
      case 'event_answered':
        this.#live.delete(frame.id);
        this.#unsnooze(frame.id);
        this.#emitLive();
        break;
      default:
        break;
    }
  }

  #applyChange(change: Frame & { type: 'change' }): void {
    switch (change.kind) {
      case 'created':
        this.#known.set(change.notification.id, change.notification);
        // `web_push`: the user wants this type raised as a browser notification (`desktop` is
        // the desktop agent's toast, switched on and off apart from it).
        if (change.notification.channels.includes('web_push')) {
          const n = change.notification;
          this.#maybeRaise({ title: n.subject, body: n.body, show: n.id, tag: `n-${n.id}` }, n.priority === 'critical');
        }
        break;
      case 'updated':
        this.#known.set(change.notification.id, change.notification);
        break;
      case 'read_changed':
        for (const id of change.ids) {
          const n = this.#known.get(id);
          if (n) this.#known.set(id, { ...n, read: change.read });
        }
        break;
      case 'deleted':
        for (const id of change.ids) this.#known.delete(id);
        break;
    }
    // The list reloads its page on this (as the desktop's does on the mirror's news).
    this.#emit({ type: 'inbox_changed', unread: this.#unread ?? 0 });
  }

  /** Only the leader decides, so one browser raises one notification; quiet hours and
   * do-not-disturb hold it unless it is critical. */
  #maybeRaise(note: Note, critical: boolean): void {
    if (!this.#parts.tabs.leader) return;
    if (isQuiet(this.#dnd) && !critical) return;
    this.#parts.tabs.raise(note);
  }

  /** A browser notification clicked: this tab (focused by then) shows the inbox at it; a live
   * event's card is atop every view already. */
  #opened(note: Note): void {
    if (note.show === null) return;
    void this.openWindow({ window: 'inbox', show: note.show });
  }

  /** Tells the page the live events as they now are, the stale ones gone (as the desktop does:
   * a call that stopped ringing is not answered later). Reminders stay until answered. */
  #emitLive(): void {
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#expiry = null;
    const now = Date.now();
    let next = Infinity;
    for (const [id, event] of this.#live) {
      if (event.kind === 'reminder') continue;
      const expires = Date.parse(event.expires_at);
      if (expires <= now) this.#live.delete(id);
      else next = Math.min(next, expires);
    }
    if (next !== Infinity) this.#expiry = setTimeout(() => this.#emitLive(), Math.min(next - now, 2 ** 31 - 1));
    this.#emit({ type: 'live_events', events: [...this.#live.values()] });
  }

  async searchNotifications(filter: InboxFilter, before: Before | null, limit: number): Promise<Notification[]> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (before) query.set('before', String(before.id));
    if (filter.unread_only) query.set('unread', 'true');
    if (filter.kind) query.set(filter.kind.includes('.') ? 'type' : 'module', filter.kind);
    if (filter.tag) query.set('tag', filter.tag);
    if (filter.text?.trim()) query.set('q', filter.text);
    const page = await this.api.get<{ items: Notification[] }>(`/v1/notifications?${query}`);
    for (const n of page.items) this.#known.set(n.id, n);
    return page.items;
  }

  async getNotification(id: number): Promise<Notification | null> {
    const known = this.#known.get(id);
    if (known) return known;
    // Not listed (an old one a mail links to): asked of the hub; gone or not theirs is null.
    try {
      const fetched = await this.api.get<Notification>(`/v1/notifications/${id}`);
      this.#known.set(id, fetched);
      return fetched;
    } catch {
      return null;
    }
  }

  async notificationTypes(): Promise<string[]> {
    const schema = await this.api.get<Schema>('/v1/schema');
    const declared = schema.modules.flatMap((m) => m.types.map((t) => t.type));
    const seen = [...this.#known.values()].map((n) => n.type);
    return [...new Set([...declared, ...seen])].sort();
  }

  async syncedAt(): Promise<string | null> {
    return this.#syncedAt;
  }

  async openLink(id: number): Promise<void> {
    const link = safeLink(this.#known.get(id)?.link ?? null);
    if (!link) throw { code: 'link_refused', message: 'only http and https links open' };
    window.open(link, '_blank', 'noopener,noreferrer');
  }

  linkHref(notification: Notification): string | null {
    return safeLink(notification.link);
  }

  async takeOpen(): Promise<OpenWindow | null> {
    const open = this.#open;
    this.#open = null;
    return open;
  }

  async openWindow(request: OpenWindow): Promise<void> {
    if (request.window === 'settings') location.hash = '#settings';
    else if (request.window === 'inbox') {
      location.hash = '';
      this.#open = request;
      this.#emit({ type: 'open', ...request });
    }
  }

  async dismiss(): Promise<void> {}

  async snoozeLive(eventId: string, minutes: number): Promise<void> {
    const event = this.#live.get(eventId);
    if (!event) return;
    this.#live.delete(eventId);
    this.#emitLive();
    this.#unsnooze(eventId);
    // Back after the snooze, unless answered meanwhile here or on another device.
    this.#snoozed.set(
      eventId,
      setTimeout(() => {
        this.#snoozed.delete(eventId);
        this.#live.set(eventId, event);
        this.#emitLive();
      }, minutes * 60_000),
    );
  }

  /** Forgets a snoozed event's return (it was answered). */
  #unsnooze(eventId: string): void {
    const timer = this.#snoozed.get(eventId);
    if (timer) clearTimeout(timer);
    this.#snoozed.delete(eventId);
  }

  async act(action: Action): Promise<void> {
    switch (action.type) {
      case 'mark_read':
        await this.api.post('/v1/notifications/read', { ids: action.ids, read: action.read });
        break;
      case 'read_all':
        await this.api.post('/v1/notifications/read-all');
        break;
      case 'read_from':
        await this.api.post(`/v1/notifications/${action.id}/read`);
        break;
      case 'delete':
        for (const id of action.ids) await this.api.delete(`/v1/notifications/${id}`);
        break;
      case 'confirm':
        await this.api.post(`/v1/notifications/${action.id}/confirm`, { value: action.value });
        break;
      case 'answer':
        await this.api.post(`/v1/notifications/${action.id}/answer`, { text: action.text });
        break;
      case 'respond_to_event':
        await this.api.post(`/v1/events/${encodeURIComponent(action.event_id)}/respond`, { action: action.action });
        this.#live.delete(action.event_id);
        this.#unsnooze(action.event_id);
        this.#emitLive();
        break;
      case 'set_do_not_disturb':
        await this.api.put('/v1/preferences', { dnd_until: action.until });
        break;
    }
  }

  async ask(question: SettingsQuestion): Promise<SettingsAnswer> {
    switch (question.ask) {
      case 'save_preferences':
        await this.api.put('/v1/preferences', question.update);
      // falls through: the answer is the preferences as the hub now has them.
      case 'preferences': {
        const [schema, preferences] = await Promise.all([
          this.api.get<Schema>('/v1/schema'),
          this.api.get<Preferences>('/v1/preferences'),
        ]);
        return { answer: 'preferences', schema, preferences };
      }
      default:
        throw { code: 'bad_request', message: 'the web inbox has no desktop accounts or device settings' };
    }
  }

  async agentSnapshot(): Promise<AgentSnapshot> {
    return { connection: this.#connection, unread: this.#unread, live: [...this.#live.values()] };
  }

  async onEvent(handler: (event: AgentEvent) => void): Promise<() => void> {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  // Beyond the desktop's Backend: the web inbox's own settings.
  devices = () => this.api.get<Device[]>('/v1/devices');
  revokeDevice = (id: number) => this.api.delete<void>(`/v1/devices/${id}`);
  signOut = () => this.api.delete<void>('/v1/session');
  /** Who is signed in, with their roles (`composer` may send to groups). */
  who = () => this.api.get<{ user: string; roles: string[] }>('/v1/session');
  previewSend = (request: unknown) => this.api.post<{ recipients: number }>('/v1/notifications/preview', request);
  send = (request: unknown) => this.api.post<{ ids: number[] }>('/v1/notifications', request);
}
