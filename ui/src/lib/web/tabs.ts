// One browser, many tabs, one feed: the tab holding the Web Lock `herald-feed` is the leader.
// It alone opens the hub's WebSocket and relays every frame to the other tabs over a
// BroadcastChannel; when it closes, the lock passes to another tab, which opens the feed from
// the last change it saw. Each tab says when it gains or loses focus, so the leader knows which
// one (if any) is focused: a browser notification is raised by the focused tab, else by the
// leader — exactly one per browser however many tabs are open.
//
// Without Web Locks (a page served over plain HTTP from another host is not a secure context)
// each tab keeps its own feed and raises notifications only while focused.
import type { Frame } from './feed';

type Message =
  | { t: 'frame'; frame: Frame }
  | { t: 'focus'; tab: string; focused: boolean }
  | { t: 'hello'; tab: string }
  | { t: 'raise'; to: string; note: Note };

/** What a browser notification shows, and what clicking it opens. */
export interface Note {
  title: string;
  body: string;
  /** A notification's id, opened in the inbox on click; null for a live event. */
  show: number | null;
  tag: string;
}

interface LockManagerLike {
  request(name: string, callback: () => Promise<void>): Promise<unknown>;
}

export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((e: { data: unknown }) => void) | null;
  close(): void;
}

export class Tabs {
  readonly id = Math.random().toString(36).slice(2);
  leader = false;
  /** Tabs known to be focused (this one included). */
  #focused = new Set<string>();
  #release: (() => void) | null = null;

  /** This tab became the leader: open the feed. */
  onlead: () => void = () => {};
  /** A frame from the feed, in every tab (the leader's own included). */
  onframe: (frame: Frame) => void = () => {};
  /** Show `note` as a browser notification from this tab. */
  onraise: (note: Note) => void = () => {};

  constructor(
    private readonly channel: ChannelLike | null,
    private readonly locks: LockManagerLike | null,
    private readonly hasFocus: () => boolean,
  ) {
    if (channel) channel.onmessage = (e) => this.#receive(e.data as Message);
  }

  static inBrowser(): Tabs {
    const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('herald') : null;
    const locks = (typeof navigator !== 'undefined' && (navigator as { locks?: LockManagerLike }).locks) || null;
    const tabs = new Tabs(channel as unknown as ChannelLike | null, locks, () => document.hasFocus());
    window.addEventListener('focus', () => tabs.focusChanged(true));
    window.addEventListener('blur', () => tabs.focusChanged(false));
    window.addEventListener('pagehide', () => tabs.focusChanged(false));
    return tabs;
  }

  /** Joins the browser's tabs: waits for the lock (or leads alone without Web Locks). */
  start(): void {
    this.focusChanged(this.hasFocus());
    this.#post({ t: 'hello', tab: this.id });
    if (!this.locks) {
      this.#lead();
      return;
    }
    void this.locks.request('herald-feed', () => {
      this.#lead();
      // Held until this tab goes (or stops): then the next tab in line leads.
      return new Promise<void>((release) => (this.#release = release));
    });
  }

  stop(): void {
    this.#release?.();
    this.focusChanged(false);
    this.channel?.close();
  }

  #lead(): void {
    this.leader = true;
    this.onlead();
  }

  /** The leader hands a frame from the hub to every tab, itself included. */
  relay(frame: Frame): void {
    this.#post({ t: 'frame', frame });
    this.onframe(frame);
  }

  focusChanged(focused: boolean): void {
    if (focused) this.#focused.add(this.id);
    else this.#focused.delete(this.id);
    this.#post({ t: 'focus', tab: this.id, focused });
  }

  /** The leader's decision: the focused tab raises `note`, else the leader does. */
  raise(note: Note): void {
    if (!this.locks) {
      if (this.hasFocus()) this.onraise(note);
      return;
    }
    const focused = this.#focused.has(this.id) ? this.id : [...this.#focused][0];
    if (focused && focused !== this.id) this.#post({ t: 'raise', to: focused, note });
    else this.onraise(note);
  }

  #post(message: Message): void {
    this.channel?.postMessage(message);
  }

  #receive(message: Message): void {
    switch (message.t) {
      case 'frame':
        // Only followers act on relayed frames; a second leader (none with Web Locks) ignores them.
        if (!this.leader) this.onframe(message.frame);
        break;
      case 'focus':
        if (message.focused) this.#focused.add(message.tab);
        else this.#focused.delete(message.tab);
        break;
      case 'hello':
        // A new tab: tell it where the focus is.
        if (this.#focused.has(this.id)) this.#post({ t: 'focus', tab: this.id, focused: true });
        break;
      case 'raise':
        if (message.to === this.id) this.onraise(message.note);
        break;
    }
  }
}
