// The inbox window: its list (list.svelte.ts), the notification open beside it, the keyboard
// cursor, the rows picked for acting on many at once, and what the user does to them. Each
// action shows at once and is undone, with the reason, if the agent cannot take it.
import { SvelteSet } from 'svelte/reactivity';
import { toIpcError } from './backend';
import type { Action, Backend, Notification, OpenWindow } from './backend';
import { InboxList, SEARCH_DELAY_MS } from './list.svelte';

/** A confirm request not answered yet: reading it does not answer it, so it stays unread (seed 003). */
export function awaitsConfirmation(n: Notification): boolean {
  return n.buttons.length > 0 && n.answer === null;
}

/** Takes a text reply and has none yet. */
export function takesReply(n: Notification): boolean {
  return n.reply !== null && n.answer === null;
}

export interface Pick {
  /** Shift: everything from the last picked one to this. */
  range: boolean;
  /** Ctrl/Cmd: this one in or out, the rest kept. */
  toggle: boolean;
}

export class Inbox {
  readonly list: InboxList;
  /** The notification open in the detail pane. */
  selectedId = $state<number | null>(null);
  /** Where j/k are; the row the keyboard acts on when none is picked. */
  cursorId = $state<number | null>(null);
  /** Rows picked with Shift/Ctrl-click or x, to act on together. */
  picked = new SvelteSet<number>();
  /** Bumped to ask the detail pane to focus its reply box. */
  replyRequests = $state(0);
  /** The open one when it is not among those listed (shown from the tray, far back, filtered out). */
  #fetched = $state.raw<Notification | null>(null);
  #anchor: number | null = null;
  /** Bumped by every `show`: only the latest one asked for opens. */
  #shows = 0;

  /** The open one, as it is now. */
  selected: Notification | null;

  constructor(backend: Backend, searchDelay = SEARCH_DELAY_MS) {
    this.list = new InboxList(backend, searchDelay);
    this.selected = $derived(
      this.list.items.find((n) => n.id === this.selectedId) ??
        (this.#fetched?.id === this.selectedId ? this.#fetched : null),
    );
    this.list.onreload = () => this.#refreshSelected();
    this.list.onopen = () => void this.takeOpen();
  }

  get #backend(): Backend {
    return this.list.backend;
  }

  async start(): Promise<void> {
    await this.list.start();
    await this.takeOpen();
  }

  /** What this window does when asked to open at something; the inbox shows the notification. */
  onopened: (open: OpenWindow) => Promise<void> = async (open) => {
    if (open.window === 'inbox' && open.show !== null) await this.show(open.show);
  };

  /** Takes what this window was asked to open at (a notification chosen in the tray, a toast's
   * Reply), if anything, and opens it. */
  async takeOpen(): Promise<void> {
    try {
      const open = await this.#backend.takeOpen();
      if (open) await this.onopened(open);
    } catch (e) {
      this.list.error = toIpcError(e);
    }
  }

  stop(): void {
    this.list.stop();
  }

  /** A click on a row: opens it, or with Shift/Ctrl picks rows instead. */
  click(id: number, how: Pick): void {
    if (how.range && this.#anchor !== null) {
      this.#pickRange(this.#anchor, id);
    } else if (how.toggle) {
      if (this.picked.has(id)) this.picked.delete(id);
      else this.picked.add(id);
      this.#anchor = id;
    } else {
      this.picked.clear();
      this.#anchor = id;
      void this.show(id);
    }
    this.cursorId = id;
  }

  #pickRange(from: number, to: number): void {
    const a = this.list.indexOf(from);
    const b = this.list.indexOf(to);
    if (a < 0 || b < 0) return;
    this.picked.clear();
    for (const n of this.list.items.slice(Math.min(a, b), Math.max(a, b) + 1)) this.picked.add(n.id);
  }

  /** j/k: the cursor moves (Shift: picking on the way); with a notification open, the next one
   * opens. Returns the cursor's row, for the view to scroll to. */
  move(by: 1 | -1, extend: boolean): number {
    const items = this.list.items;
    if (items.length === 0) return -1;
    const at = this.list.indexOf(this.cursorId ?? this.selectedId);
    const next = at < 0 ? 0 : Math.min(items.length - 1, Math.max(0, at + by));
    const id = items[next].id;
    if (extend) {
      this.#anchor ??= at < 0 ? id : items[at].id;
      this.#pickRange(this.#anchor, id);
    } else {
      this.#anchor = id;
      if (this.selectedId !== null) void this.show(id);
    }
    this.cursorId = id;
    this.list.reachedRow(next);
    return next;
  }

  /** x: the cursor's row in or out of the picked ones. */
  pickCursor(): void {
    if (this.cursorId !== null) this.click(this.cursorId, { range: false, toggle: true });
  }

  /** What e, # and the bar's buttons act on: the picked rows, else the cursor's, else the open one. */
  targets(): Notification[] {
    const ids = this.picked.size > 0 ? [...this.picked] : [this.cursorId ?? this.selectedId].filter((id) => id !== null);
    return ids.map((id) => this.#find(id)).filter((n): n is Notification => n !== null);
  }

  #find(id: number): Notification | null {
    return this.list.items.find((n) => n.id === id) ?? (this.#fetched?.id === id ? this.#fetched : null);
  }

  /** Opens a notification in the detail pane (fetched if it is not listed) and marks it read. */
  async show(id: number): Promise<void> {
    const asked = ++this.#shows;
    let found = this.list.items.find((n) => n.id === id) ?? null;
    if (!found) {
      try {
        found = await this.#backend.getNotification(id);
      } catch (e) {
        this.list.error = toIpcError(e);
        return;
      }
      // Not there, or another was asked for meanwhile.
      if (!found || asked !== this.#shows) return;
      this.#fetched = found;
    }
    this.selectedId = id;
    this.cursorId = id;
    await this.setRead([found], true);
  }

  /** After a re-read: the open one, if no longer listed, is read again from the mirror (it may
   * have changed or gone). */
  async #refreshSelected(): Promise<void> {
    const id = this.selectedId;
    if (id === null || this.list.items.some((n) => n.id === id)) return;
    try {
      const now = await this.#backend.getNotification(id);
      if (id !== this.selectedId) return;
      if (now) this.#fetched = now;
      else this.selectedId = null;
    } catch (e) {
      this.list.error = toIpcError(e);
    }
  }

  close(): void {
    this.selectedId = null;
  }

  /** Esc: lets go of the picked rows, else closes the open one, else clears the filters. */
  escape(): void {
    if (this.picked.size > 0) this.picked.clear();
    else if (this.selectedId !== null) this.close();
    else if (this.list.filtered || this.list.typed) void this.list.clearFilters();
  }

  /** r: opens the cursor's notification and asks for its reply box. */
  async reply(): Promise<void> {
    const id = this.cursorId ?? this.selectedId;
    if (id === null) return;
    if (id !== this.selectedId) await this.show(id);
    this.replyRequests += 1;
  }

  /** e: all the targets read, or unread if they all are read already. */
  toggleRead(): Promise<void> {
    const targets = this.targets();
    return this.setRead(targets, !targets.every((n) => n.read));
  }

  async setRead(notifications: Notification[], read: boolean): Promise<void> {
    const changing = notifications.filter((n) => n.read !== read && !(read && awaitsConfirmation(n)));
    if (changing.length === 0) return;
    const ids = changing.map((n) => n.id);
    await this.#act({ type: 'mark_read', ids, read }, ids, (n) => ({ ...n, read }), (n) => ({ ...n, read: !read }));
  }

  /** Deletes the targets (or `notifications`): gone from the list at once; the cursor moves on. */
  async remove(notifications = this.targets()): Promise<void> {
    if (notifications.length === 0) return;
    const ids = notifications.map((n) => n.id);
    const gone = new Set(ids);
    const items = this.list.items;
    const at = this.list.indexOf(this.cursorId);
    // The next row that stays, else the nearest one above.
    let after: Notification | undefined = items.slice(Math.max(at, 0)).find((n) => !gone.has(n.id));
    for (let i = Math.max(at, 0); !after && i >= 0; i--) if (items[i] && !gone.has(items[i].id)) after = items[i];
    this.list.drop(ids);
    ids.forEach((id) => this.picked.delete(id));
    if (this.cursorId !== null && gone.has(this.cursorId)) this.cursorId = after?.id ?? null;
    // Shift-ranges start again from where the cursor is now.
    if (this.#anchor !== null && gone.has(this.#anchor)) this.#anchor = this.cursorId;
    if (this.selectedId !== null && gone.has(this.selectedId)) this.selectedId = null;
    try {
      await this.#backend.act({ type: 'delete', ids });
      this.list.error = null;
    } catch (e) {
      this.list.error = toIpcError(e);
      await this.list.reload();
    }
  }

  confirm(n: Notification, value: string): Promise<boolean> {
    const answer = { value, text: null, at: new Date().toISOString() };
    return this.#answer(n, { type: 'confirm', id: n.id, value }, answer);
  }

  /** Sends a text reply; false if there was nothing to send or the agent did not take it. */
  async sendReply(n: Notification, text: string): Promise<boolean> {
    const trimmed = text.trim();
    if (!trimmed || !takesReply(n)) return false;
    const answer = { value: null, text: trimmed, at: new Date().toISOString() };
    return this.#answer(n, { type: 'answer', id: n.id, text: trimmed }, answer);
  }

  async #answer(n: Notification, action: Action, answer: NonNullable<Notification['answer']>): Promise<boolean> {
    const before = { answer: n.answer, read: n.read };
    return this.#act(action, [n.id], (m) => ({ ...m, answer, read: true }), (m) => ({ ...m, ...before }));
  }

  async markAllRead(): Promise<void> {
    const ids = this.list.items.filter((n) => !n.read && !awaitsConfirmation(n)).map((n) => n.id);
    await this.#act({ type: 'read_all' }, ids, (n) => ({ ...n, read: true }), (n) => ({ ...n, read: false }));
  }

  async openLink(n: Notification): Promise<void> {
    try {
      await this.#backend.openLink(n.id);
    } catch (e) {
      this.list.error = toIpcError(e);
    }
  }

  /** Shows `action`'s effect on `ids` at once, sends it, and takes the effect back if it fails. */
  async #act(
    action: Action,
    ids: number[],
    apply: (n: Notification) => Notification,
    undo: (n: Notification) => Notification,
  ): Promise<boolean> {
    this.#patch(ids, apply);
    try {
      await this.#backend.act(action);
      this.list.error = null;
      return true;
    } catch (e) {
      this.#patch(ids, undo);
      this.list.error = toIpcError(e);
      return false;
    }
  }

  #patch(ids: number[], change: (n: Notification) => Notification): void {
    this.list.patch(ids, change);
    if (this.#fetched && ids.includes(this.#fetched.id)) this.#fetched = change(this.#fetched);
  }
}
