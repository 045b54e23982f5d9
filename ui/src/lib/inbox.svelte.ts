// The inbox window's state: what is listed, the unread count, the link state, the last error.
// It re-reads the synced mirror whenever the agent says it changed.
import { toIpcError } from './backend';
import type { AgentEvent, Backend, ConnectionState, IpcError, Notification } from './backend';

export const PAGE = 50;

export class Inbox {
  items = $state<Notification[]>([]);
  /** From the agent; until it speaks, counted from what is listed. */
  agentUnread = $state<number | null>(null);
  connection = $state<ConnectionState>({ state: 'connecting' });
  error = $state<IpcError | null>(null);
  hasMore = $state(false);
  loaded = $state(false);
  now = $state(Date.now());

  unread = $derived(this.agentUnread ?? this.items.filter((n) => !n.read).length);
  /** The notification open in the detail pane. */
  selectedId = $state<number | null>(null);
  /** The open one when it is not among those listed (shown from the tray, far back). */
  #fetched = $state<Notification | null>(null);
  selected = $derived(
    this.items.find((n) => n.id === this.selectedId) ?? (this.#fetched?.id === this.selectedId ? this.#fetched : null),
  );

  #backend: Backend;
  #stop: Array<() => void> = [];
  /** Bumped by every read of the list; an answer to an older read is dropped, not shown. */
  #generation = 0;
  /** Bumped by every `show`: only the latest one asked for opens. */
  #shows = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async start(): Promise<void> {
    // Listen first, then ask for the state so far: nothing said in between is lost.
    this.#stop.push(await this.#backend.onEvent((e) => this.handle(e)));
    try {
      const snapshot = await this.#backend.agentSnapshot();
      this.connection = snapshot.connection;
      this.agentUnread = snapshot.unread;
    } catch (e) {
      this.error = toIpcError(e);
    }
    const clock = setInterval(() => (this.now = Date.now()), 30_000);
    this.#stop.push(() => clearInterval(clock));
    await this.reload();
    try {
      const show = await this.#backend.takeInitialShow();
      if (show !== null) await this.show(show);
    } catch (e) {
      this.error = toIpcError(e);
    }
  }

  stop(): void {
    this.#stop.splice(0).forEach((f) => f());
  }

  handle(event: AgentEvent): void {
    switch (event.type) {
      case 'inbox_changed':
        this.agentUnread = event.unread;
        void this.reload();
        break;
      case 'connection':
        this.connection = event.connection;
        if (event.connection.state === 'offline' && event.connection.retry_in_ms === null) this.agentUnread = null;
        break;
      case 'error':
        // The agent could not record something; the mirror says what really happened.
        this.error = { code: event.code, message: event.message };
        void this.reload();
        break;
      case 'show_notification':
        void this.show(event.id);
        break;
      case 'show_inbox':
      case 'accounts_reloaded':
      case 'sync_progress':
      case 'live_events':
        break;
    }
  }

  /** Re-reads as many as are shown (at least a page) so a refresh never shortens the list. */
  async reload(): Promise<void> {
    const want = Math.max(this.items.length, PAGE);
    const generation = ++this.#generation;
    try {
      const page = await this.#backend.listNotifications(null, want + 1);
      if (generation !== this.#generation) return;
      this.hasMore = page.length > want;
      this.items = page.slice(0, want);
      this.loaded = true;
      await this.#refreshSelected();
    } catch (e) {
      this.error = toIpcError(e);
    }
  }

  async loadMore(): Promise<void> {
    const last = this.items[this.items.length - 1];
    if (!last) return;
    const generation = ++this.#generation;
    try {
      const page = await this.#backend.listNotifications({ created_at: last.created_at, id: last.id }, PAGE + 1);
      if (generation !== this.#generation) return;
      this.hasMore = page.length > PAGE;
      this.items = [...this.items, ...page.slice(0, PAGE)];
    } catch (e) {
      this.error = toIpcError(e);
    }
  }

  /** Opens a notification in the detail pane (fetched if it is not listed) and marks it read. */
  async show(id: number): Promise<void> {
    const asked = ++this.#shows;
    let found = this.items.find((n) => n.id === id) ?? null;
    if (!found) {
      try {
        found = await this.#backend.getNotification(id);
      } catch (e) {
        this.error = toIpcError(e);
        return;
      }
      // Not there, or another was asked for meanwhile.
      if (!found || asked !== this.#shows) return;
      this.#fetched = found;
    }
    this.selectedId = id;
    await this.setRead(found, true);
  }

  /** After a re-read: the open one, if no longer listed, is read again from the mirror (it may
   * have changed or gone). */
  async #refreshSelected(): Promise<void> {
    const id = this.selectedId;
    if (id === null || this.items.some((n) => n.id === id)) return;
    try {
      const now = await this.#backend.getNotification(id);
      if (id !== this.selectedId) return;
      if (now) this.#fetched = now;
      else this.selectedId = null;
    } catch (e) {
      this.error = toIpcError(e);
    }
  }

  close(): void {
    this.selectedId = null;
  }

  /** Shows the change at once; undoes it and says why if the agent cannot take it. */
  async setRead(notification: Notification, read: boolean): Promise<void> {
    if (notification.read === read) return;
    const item = this.items.find((n) => n.id === notification.id) ?? (this.#fetched?.id === notification.id ? this.#fetched : null);
    if (item) item.read = read;
    try {
      await this.#backend.markRead([notification.id], read);
      this.error = null;
    } catch (e) {
      if (item) item.read = !read;
      this.error = toIpcError(e);
    }
  }
}
