// The inbox window's list: what the filters and the search let through, page by page, kept in
// step with the mirror whenever the agent says it changed; plus the link state and how fresh
// the synced inbox is. The open one, the picked ones and what the user does to them are in `inbox.svelte.ts`.
import { toIpcError } from './backend';
import type { AgentEvent, Backend, ConnectionState, InboxFilter, IpcError, LiveEvent, Notification } from './backend';

/** Rows read per call (the Rust side takes at most 200). */
export const PAGE = 100;
/** Rows kept past the last one on screen when the list is re-read. */
const MARGIN = 50;
/** Typing pauses this long before the search runs: one query per pause, not per key. */
export const SEARCH_DELAY_MS = 120;

export const NO_FILTER: InboxFilter = { unread_only: false, kind: null, tag: null, text: null };

export function isFiltered(filter: InboxFilter): boolean {
  return filter.unread_only || !!filter.kind || !!filter.tag || !!filter.text?.trim();
}

export class InboxList {
  /** Raw, not deeply reactive: at 100,000 rows a proxy per row costs more than replacing the array. */
  items = $state.raw<Notification[]>([]);
  filter = $state<InboxFilter>({ ...NO_FILTER });
  /** What the search box holds; the filter takes it after a pause in typing. */
  typed = $state('');
  types = $state.raw<string[]>([]);
  /** From the agent; until it speaks, counted from what is listed. */
  agentUnread = $state<number | null>(null);
  connection = $state<ConnectionState>({ state: 'connecting' });
  /** When the synced inbox was last in step with the hubs (shown while offline). */
  syncedAt = $state<string | null>(null);
  /** Live events still on (a ringing call, a reminder), as the agent lists them. */
  live = $state.raw<LiveEvent[]>([]);
  /** A catch-up under way: `done` of `total` changes applied. */
  progress = $state<{ done: number; total: number } | null>(null);
  error = $state<IpcError | null>(null);
  hasMore = $state(false);
  loaded = $state(false);
  now = $state(Date.now());
  /** Bumped when the list starts over (a new filter): the view scrolls back to the top. */
  resets = $state(0);
  /** The last row on screen; a re-read keeps the rows up to it (and a margin). */
  visibleEnd = 0;

  unread = $derived(this.agentUnread ?? this.items.filter((n) => !n.read).length);
  filtered = $derived(isFiltered(this.filter));

  #backend: Backend;
  #searchDelay: number;
  #searchTimer: ReturnType<typeof setTimeout> | null = null;
  #stop: Array<() => void> = [];
  /** Bumped by every read of the list; an answer to an older read is dropped, not shown. */
  #generation = 0;
  #loadingMore = false;
  /** Called after every re-read (the open notification may have changed or gone). */
  onreload: () => Promise<void> = async () => {};
  /** Called when the agent asks for a window to open (it may be this one, at something). */
  onopen: () => void = () => {};

  constructor(backend: Backend, searchDelay = SEARCH_DELAY_MS) {
    this.#backend = backend;
    this.#searchDelay = searchDelay;
  }

  get backend(): Backend {
    return this.#backend;
  }

  async start(): Promise<void> {
    // Listen first, then ask for the state so far: nothing said in between is lost.
    this.#stop.push(await this.#backend.onEvent((e) => this.handle(e)));
    try {
      const snapshot = await this.#backend.agentSnapshot();
      this.#setConnection(snapshot.connection);
      this.agentUnread = snapshot.unread;
      this.live = snapshot.live;
    } catch (e) {
      this.error = toIpcError(e);
    }
    const clock = setInterval(() => (this.now = Date.now()), 30_000);
    this.#stop.push(() => clearInterval(clock));
    await this.reload();
  }

  stop(): void {
    if (this.#searchTimer) clearTimeout(this.#searchTimer);
    this.#stop.splice(0).forEach((f) => f());
  }

  handle(event: AgentEvent): void {
    switch (event.type) {
      case 'inbox_changed':
        this.agentUnread = event.unread;
        void this.reload();
        break;
      case 'connection':
        this.#setConnection(event.connection);
        if (event.connection.state === 'offline' && event.connection.retry_in_ms === null) this.agentUnread = null;
        break;
      case 'sync_progress':
        this.progress = event.done < event.total ? { done: event.done, total: event.total } : null;
        break;
      case 'error':
        // The agent could not record something; the mirror says what really happened.
        this.error = { code: event.code, message: event.message };
        void this.reload();
        break;
      case 'open':
        this.onopen();
        break;
      case 'live_events':
        this.live = event.events;
        break;
      case 'accounts_reloaded':
        break;
    }
  }

  #setConnection(connection: ConnectionState): void {
    this.connection = connection;
    if (connection.state === 'online') this.progress = null;
    if (connection.state === 'offline') void this.#readSyncedAt();
  }

  async #readSyncedAt(): Promise<void> {
    try {
      this.syncedAt = await this.#backend.syncedAt();
    } catch {
      // Only a detail of the offline banner; the banner itself still shows.
    }
  }

  /** Re-reads the list from the top, as far as the user has it on screen (at least a page), so a
   * refresh never shortens what they look at. */
  async reload(): Promise<void> {
    const want = Math.max(PAGE, Math.min(this.items.length, this.visibleEnd + MARGIN));
    const generation = ++this.#generation;
    try {
      const [rows, more] = await this.#read(want, generation);
      if (generation !== this.#generation) return;
      this.items = rows;
      this.hasMore = more;
      this.loaded = true;
      this.#refreshTypes();
      await this.onreload();
    } catch (e) {
      if (generation === this.#generation) this.error = toIpcError(e);
    }
  }

  /** Up to `want` rows from the top, in pages; and whether there are more. */
  async #read(want: number, generation: number): Promise<[Notification[], boolean]> {
    const filter = $state.snapshot(this.filter);
    const rows: Notification[] = [];
    while (rows.length < want) {
      const last = rows[rows.length - 1];
      const before = last ? { created_at: last.created_at, id: last.id } : null;
      const page = await this.#backend.searchNotifications(filter, before, PAGE);
      if (generation !== this.#generation) return [rows, true];
      rows.push(...page);
      if (page.length < PAGE) return [rows, false];
    }
    return [rows, true];
  }

  async loadMore(): Promise<void> {
    const last = this.items[this.items.length - 1];
    if (!last || !this.hasMore || this.#loadingMore) return;
    this.#loadingMore = true;
    const generation = this.#generation;
    try {
      const filter = $state.snapshot(this.filter);
      const page = await this.#backend.searchNotifications(filter, { created_at: last.created_at, id: last.id }, PAGE);
      if (generation !== this.#generation) return;
      this.hasMore = page.length === PAGE;
      this.items = [...this.items, ...page];
    } catch (e) {
      this.error = toIpcError(e);
    } finally {
      this.#loadingMore = false;
    }
  }

  /** The view reports the last row on screen; near the end, the next page is read. */
  reachedRow(index: number): void {
    this.visibleEnd = index;
    if (index >= this.items.length - MARGIN) void this.loadMore();
  }

  async #refreshTypes(): Promise<void> {
    try {
      const types = await this.#backend.notificationTypes();
      if (types.join('\n') !== this.types.join('\n')) this.types = types;
    } catch {
      // The type filter keeps its last choices.
    }
  }

  /** A new filter: the list starts over from the top. */
  setFilter(change: Partial<InboxFilter>): Promise<void> {
    this.filter = { ...this.filter, ...change };
    this.items = [];
    this.visibleEnd = 0;
    this.resets += 1;
    return this.reload();
  }

  /** The search box changed: the search runs once typing pauses. */
  type(text: string): void {
    this.typed = text;
    if (this.#searchTimer) clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => {
      this.#searchTimer = null;
      const wanted = text.trim() || null;
      if (wanted !== (this.filter.text ?? null)) void this.setFilter({ text: wanted });
    }, this.#searchDelay);
  }

  clearFilters(): Promise<void> {
    if (this.#searchTimer) clearTimeout(this.#searchTimer);
    this.typed = '';
    return this.setFilter({ ...NO_FILTER });
  }

  /** Changes rows in place (a new array: the rows are not reactive one by one). */
  patch(ids: Iterable<number>, change: (n: Notification) => Notification): void {
    const set = new Set(ids);
    this.items = this.items.map((n) => (set.has(n.id) ? change(n) : n));
  }

  drop(ids: Iterable<number>): void {
    const set = new Set(ids);
    this.items = this.items.filter((n) => !set.has(n.id));
  }

  indexOf(id: number | null): number {
    return id === null ? -1 : this.items.findIndex((n) => n.id === id);
  }
}
