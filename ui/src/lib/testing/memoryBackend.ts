// An in-memory Backend for the UI's tests: the Rust side is exercised for real by the webview
// end-to-end tests. It filters as the mirror does (unread, module or type, tag, word prefixes).
import type {
  Action,
  AgentEvent,
  AgentSnapshot,
  Backend,
  Before,
  InboxFilter,
  Notification,
  OpenWindow,
  SettingsAnswer,
  SettingsQuestion,
} from '../backend';

export class MemoryBackend implements Backend {
  items: Notification[] = [];
  actions: Action[] = [];
  /** Every search asked for, in order. */
  searches: InboxFilter[] = [];
  opened: number[] = [];
  failActs = false;
  handlers: Array<(e: AgentEvent) => void> = [];
  /** What the window was opened at, taken once. */
  pendingOpen: OpenWindow | null = null;
  opensAsked: OpenWindow[] = [];
  dismissed = 0;
  snoozes: Array<[string, number]> = [];
  synced: string | null = null;
  snapshot: AgentSnapshot = { connection: { state: 'online' }, unread: null, live: [] };

  async searchNotifications(filter: InboxFilter, before: Before | null, limit: number) {
    this.searches.push(filter);
    const older = (n: Notification, b: Before) =>
      n.created_at < b.created_at || (n.created_at === b.created_at && n.id < b.id);
    const words = (filter.text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const kind = filter.kind;
    return this.items
      .filter((n) => before === null || older(n, before))
      .filter((n) => !filter.unread_only || !n.read)
      .filter((n) => !kind || (kind.includes('.') ? n.type === kind : n.type === kind || n.type.startsWith(`${kind}.`)))
      .filter((n) => !filter.tag || n.tag === filter.tag)
      .filter((n) => {
        const text = `${n.subject} ${n.body}`.toLowerCase().split(/\W+/);
        return words.every((w) => text.some((t) => t.startsWith(w)));
      })
      .slice(0, limit);
  }
  async getNotification(id: number) {
    return this.items.find((n) => n.id === id) ?? null;
  }
  async notificationTypes() {
    return [...new Set(this.items.map((n) => n.type))].sort();
  }
  async syncedAt() {
    return this.synced;
  }
  async openLink(id: number) {
    this.opened.push(id);
  }
  async takeOpen() {
    const open = this.pendingOpen;
    this.pendingOpen = null;
    return open;
  }
  async openWindow(request: OpenWindow) {
    this.opensAsked.push(request);
  }
  async dismiss() {
    this.dismissed += 1;
  }
  async snoozeLive(eventId: string, minutes: number) {
    this.snoozes.push([eventId, minutes]);
  }
  /** The agent asks this window to open at `request` (as the Tauri shell does: left for the page, then told). */
  open(request: OpenWindow) {
    this.pendingOpen = request;
    this.emit({ type: 'open', ...request });
  }
  async act(action: Action) {
    if (this.failActs) throw { code: 'agent_unavailable', message: 'the Herald agent is not running' };
    this.actions.push(action);
  }
  /** The mark-read actions sent, as `{ids, read}`. */
  get marked() {
    return this.actions.flatMap((a) => (a.type === 'mark_read' ? [{ ids: a.ids, read: a.read }] : []));
  }
  /** The settings questions asked, and how the stand-in agent answers them. */
  questions: SettingsQuestion[] = [];
  answer: (question: SettingsQuestion) => SettingsAnswer = () => {
    throw { code: 'agent_unavailable', message: 'no settings in this test' };
  };
  /** While set, questions wait for it before being answered (a slow hub). */
  hold: Promise<void> | null = null;
  async ask(question: SettingsQuestion) {
    this.questions.push(question);
    await this.hold;
    return this.answer(question);
  }
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

export const LOADED_AT = Date.now();

export function note(id: number, subject: string, body = '', read = false): Notification {
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

/** `count` notifications, newest (highest id) first. */
export function many(count: number): Notification[] {
  return Array.from({ length: count }, (_, i) => note(count - i, `n${count - i}`));
}
