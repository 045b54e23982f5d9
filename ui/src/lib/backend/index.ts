// The only way the UI reaches Rust (GitButler's IBackend): components get a Backend, so tests
// can hand them an in-memory one and the app hands them the Tauri one.
import type { Action } from './generated/Action';
import type { AgentSnapshot } from './generated/AgentSnapshot';
import type { Before } from './generated/Before';
import type { Event as AgentEvent } from './generated/Event';
import type { InboxFilter } from './generated/InboxFilter';
import type { IpcError } from './generated/IpcError';
import type { LiveEvent } from './generated/LiveEvent';
import type { Notification } from './generated/Notification';
import type { OpenWindow } from './generated/OpenWindow';
import type { SettingsAnswer } from './generated/SettingsAnswer';
import type { SettingsQuestion } from './generated/SettingsQuestion';

export type { Action, AgentEvent, AgentSnapshot, Before, InboxFilter, IpcError, LiveEvent, Notification, OpenWindow };
export type { SettingsAnswer, SettingsQuestion };
export type { AccountSummary } from './generated/AccountSummary';
export type { Channel } from './generated/Channel';
export type { DeviceSettings } from './generated/DeviceSettings';
export type { EmailDelivery } from './generated/EmailDelivery';
export type { EmailModeOverride } from './generated/EmailModeOverride';
export type { EmailStatus } from './generated/EmailStatus';
export type { Preferences } from './generated/Preferences';
export type { PreferenceOverride } from './generated/PreferenceOverride';
export type { PreferencesUpdate } from './generated/PreferencesUpdate';
export type { QuietHours } from './generated/QuietHours';
export type { QuietPeriod } from './generated/QuietPeriod';
export type { Schema } from './generated/Schema';
export type { TokenStorage } from './generated/TokenStorage';
export type { Weekday } from './generated/Weekday';
export type { ConnectionState } from './generated/ConnectionState';

export interface Backend {
  /** A page of the synced inbox (every account) that `filter` lets through, newest first, after
   * `before` (the last one of the previous page). */
  searchNotifications(filter: InboxFilter, before: Before | null, limit: number): Promise<Notification[]>;
  /** One notification from the synced inbox; null if it is not there (deleted, or not synced yet). */
  getNotification(id: number): Promise<Notification | null>;
  /** The types in the synced inbox, in order (for the type filter). */
  notificationTypes(): Promise<string[]>;
  /** When the synced inbox was last in step with the hubs (RFC 3339); null: never. */
  syncedAt(): Promise<string | null>;
  /** Opens the notification's link in the browser (refused unless it is http/https). */
  openLink(id: number): Promise<void>;
  /** Where the link goes, for a page that links to it itself (the web inbox, with
   * rel="noopener noreferrer"): an http(s) URL, else null. Absent: `openLink` is the way. */
  linkHref?(notification: Notification): string | null;
  /** What this window was last asked to open at (a notification, a reply box), once; null if nothing. */
  takeOpen(): Promise<OpenWindow | null>;
  /** Opens (or brings forward) another Herald window. */
  openWindow(request: OpenWindow): Promise<void>;
  /** Hides this window (the quick panel). */
  dismiss(): Promise<void>;
  /** Snoozes a reminder on this desktop: its toast and its place here come back after `minutes`. */
  snoozeLive(eventId: string, minutes: number): Promise<void>;
  /** Any user action (read, delete, confirm, reply…): the agent records it and tells the hub. */
  act(action: Action): Promise<void>;
  /** The settings window's questions to the agent (accounts, sign-in test, preferences, this device). */
  ask(question: SettingsQuestion): Promise<SettingsAnswer>;
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
