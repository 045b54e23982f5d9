// The only way the UI reaches Rust (GitButler's IBackend): components get a Backend, so tests
// can hand them an in-memory one and the app hands them the Tauri one.
import type { AgentSnapshot } from './generated/AgentSnapshot';
import type { Before } from './generated/Before';
import type { Event as AgentEvent } from './generated/Event';
import type { IpcError } from './generated/IpcError';
import type { Notification } from './generated/Notification';

export type { AgentEvent, AgentSnapshot, Before, IpcError, Notification };
export type { ConnectionState } from './generated/ConnectionState';

export interface Backend {
  /** A page of the synced inbox (every account), newest first, after `before` (the last one of the previous page). */
  listNotifications(before: Before | null, limit: number): Promise<Notification[]>;
  /** One notification from the synced inbox; null if it is not there (deleted, or not synced yet). */
  getNotification(id: number): Promise<Notification | null>;
  /** The notification this window was opened to show (chosen in the tray), once; null otherwise. */
  takeInitialShow(): Promise<number | null>;
  /** Marks notifications read or unread (the agent records it and tells the hub). */
  markRead(ids: number[], read: boolean): Promise<void>;
  /** The latest connection state and unread count the agent reported (events before the page listened are not lost). */
  agentSnapshot(): Promise<AgentSnapshot>;
  /** Calls `handler` for every event from the agent; resolves to an unsubscribe function. */
  onEvent(handler: (event: AgentEvent) => void): Promise<() => void>;
}

/** Errors from Rust arrive as `{code, message}`; anything else is wrapped so the UI can show it. */
export function toIpcError(e: unknown): IpcError {
  if (typeof e === 'object' && e !== null && 'code' in e && 'message' in e) {
    return e as IpcError;
  }
  return { code: 'agent_unavailable', message: String(e) };
}
