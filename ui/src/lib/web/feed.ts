// The hub's WebSocket feed for the web inbox: opened from the cursor `GET /v1/inbox` gave (so
// what was listed is not sent again), every frame handed on, and on a drop reopened with
// backoff from the last change seen: no gap, no duplicate. The session cookie authenticates it;
// the hub checks its Origin.
import type { ConnectionState, LiveEvent, Notification } from '../backend';

export type Frame =
  | { type: 'hello'; hub_id: string; user_id: number }
  | { type: 'backlog'; changes: number }
  | ({ type: 'change'; seq: number } & ChangeKind)
  | ({ type: 'do_not_disturb' } & Record<string, unknown>)
  | ({ type: 'event' } & LiveEvent)
  | { type: 'event_answered'; id: string; action: string; at: string }
  | { type: 'caught_up'; seq: number }
  | { type: 'resync'; floor: number }
  | { type: 'snapshot'; notifications: Notification[] }
  | { type: 'error'; code: string; message: string };

export type ChangeKind =
  | { kind: 'created'; notification: Notification }
  | { kind: 'updated'; notification: Notification }
  | { kind: 'read_changed'; ids: number[]; read: boolean }
  | { kind: 'deleted'; ids: number[] };

export interface SocketLike {
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  onopen: (() => void) | null;
  close(): void;
}

export type OpenSocket = (url: string) => SocketLike;

/** Backoff after the n-th failure in a row: 1, 2, 4 … 30 s, with up to 20 % jitter. */
export function backoffMs(failures: number, random = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (1 + 0.2 * random()));
}

/** The close reason the hub gives when the session or device ended: sign in again. */
const ENDED = /revoked or signed out/;

export class Feed {
  #socket: SocketLike | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #failures = 0;
  #stopped = false;
  /** The last change handed on; reconnects start after it. */
  seq: number;

  constructor(
    private readonly url: (since: number) => string,
    since: number,
    private readonly open: OpenSocket,
    private readonly onframe: (frame: Frame) => void,
    private readonly onstate: (state: ConnectionState) => void,
    /** The session ended (signed out here or elsewhere, device revoked). */
    private readonly onended: () => void,
    /** The hub no longer knows this cursor (restored, reset): start over from a new listing. */
    private readonly onrestart: () => void,
  ) {
    this.seq = since;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#socket?.close();
    this.#socket = null;
  }

  #connect(): void {
    this.onstate({ state: 'connecting' });
    const socket = this.open(this.url(this.seq));
    this.#socket = socket;
    socket.onmessage = (e) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(e.data)) as Frame;
      } catch {
        return;
      }
      if (frame.type === 'change') this.seq = Math.max(this.seq, frame.seq);
      if (frame.type === 'caught_up') {
        this.seq = Math.max(this.seq, frame.seq);
        this.#failures = 0;
        this.onstate({ state: 'online' });
      }
      if (frame.type === 'error' && frame.code === 'cursor_ahead') {
        this.onrestart();
        return;
      }
      this.onframe(frame);
    };
    socket.onclose = (e) => {
      if (this.#socket !== socket || this.#stopped) return;
      this.#socket = null;
      if (e.code === 1008 && ENDED.test(e.reason)) {
        this.onended();
        return;
      }
      this.#failures += 1;
      const wait = backoffMs(this.#failures);
      this.onstate({ state: 'offline', reason: 'the connection to the hub was lost', retry_in_ms: wait });
      this.#timer = setTimeout(() => this.#connect(), wait);
    };
  }
}
