// The quick panel by the tray: the live events still on (a call, a reminder) and the latest
// notifications, each answerable in place. Built on the inbox's list and actions; what is its
// own is the reply box it may be opened at (a toast's Reply) and answering live events.
import { toIpcError } from './backend';
import type { Backend, LiveEvent, Notification } from './backend';
import { Inbox } from './inbox.svelte';

/** The latest notifications the panel lists. */
export const PANEL_LATEST = 20;
/** A reminder's snoozes: label and minutes. */
export const SNOOZES: Array<[string, number]> = [
  ['Snooze 5 min', 5],
  ['Snooze 1 h', 60],
];

export class Panel {
  readonly inbox: Inbox;
  /** The notification whose reply box is open. */
  replyTo = $state<number | null>(null);
  /** Bumped to focus the open reply box. */
  replyRequests = $state(0);
  /** Live events answered or snoozed here, hidden from the agent's list as it was then; the
   * agent's next list already leaves them out (and may bring a snoozed one back). */
  #done = $state.raw<{ list: LiveEvent[]; ids: Set<string> }>({ list: [], ids: new Set() });

  /** The notification whose reply box is open when it is not among the latest (fetched for a
   * toast's Reply): listed on top until the reply is done, whatever a re-read brings. */
  #replying = $state.raw<Notification | null>(null);

  latest = $derived.by(() => {
    const items = this.inbox.list.items;
    const top = items.slice(0, PANEL_LATEST);
    const id = this.replyTo;
    if (id === null || top.some((n) => n.id === id)) return top;
    const extra = items.find((n) => n.id === id) ?? (this.#replying?.id === id ? this.#replying : null);
    return extra ? [extra, ...top] : top;
  });
  live = $derived.by(() => {
    const { list, ids } = this.#done;
    const live = this.inbox.list.live;
    return live === list ? live.filter((e) => !ids.has(e.id)) : live;
  });

  constructor(backend: Backend) {
    this.inbox = new Inbox(backend);
    this.inbox.onopened = async (open) => {
      if (open.window === 'panel' && open.reply_to !== null) await this.openReply(open.reply_to);
    };
  }

  get #backend(): Backend {
    return this.inbox.list.backend;
  }

  start(): Promise<void> {
    return this.inbox.start();
  }

  stop(): void {
    this.inbox.stop();
  }

  /** Opens notification `id`'s reply box, fetching it if it is not among the latest. */
  async openReply(id: number): Promise<void> {
    const list = this.inbox.list;
    if (!list.items.some((n) => n.id === id)) {
      try {
        const found = await this.#backend.getNotification(id);
        if (!found) return;
        this.#replying = found;
      } catch (e) {
        list.error = toIpcError(e);
        return;
      }
    }
    this.replyTo = id;
    this.replyRequests += 1;
  }

  /** Opens the inbox at notification `id`, and steps aside. */
  async showInInbox(id: number): Promise<void> {
    await this.#backend.openWindow({ window: 'inbox', show: id });
    await this.dismiss();
  }

  async openInbox(): Promise<void> {
    await this.#backend.openWindow({ window: 'inbox', show: null });
    await this.dismiss();
  }

  async openSettings(): Promise<void> {
    await this.#backend.openWindow({ window: 'settings' });
    await this.dismiss();
  }

  dismiss(): Promise<void> {
    return this.#backend.dismiss();
  }

  /** Answers a live event with one of its own buttons (answer a call, done with a reminder). */
  respond(event: LiveEvent, action: string): Promise<void> {
    return this.#settle(event, () => this.#backend.act({ type: 'respond_to_event', event_id: event.id, action }));
  }

  snooze(event: LiveEvent, minutes: number): Promise<void> {
    return this.#settle(event, () => this.#backend.snoozeLive(event.id, minutes));
  }

  /** Hides `event` at once; shows it again, and says why, if the agent does not take it. */
  async #settle(event: LiveEvent, send: () => Promise<void>): Promise<void> {
    const live = this.inbox.list.live;
    const hidden = this.#done.list === live ? this.#done.ids : new Set<string>();
    this.#done = { list: live, ids: new Set([...hidden, event.id]) };
    try {
      await send();
      this.inbox.list.error = null;
    } catch (e) {
      this.#done = { list: live, ids: new Set([...this.#done.ids].filter((id) => id !== event.id)) };
      this.inbox.list.error = toIpcError(e);
    }
  }
}
