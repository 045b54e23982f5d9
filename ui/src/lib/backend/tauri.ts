import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AgentEvent, AgentSnapshot, Backend, Notification, OpenWindow, SettingsAnswer } from './index';

/** Must match `EVENT_NAME` in src-tauri/src/events.rs. */
const EVENT_NAME = 'herald://event';

export const tauriBackend: Backend = {
  searchNotifications: (filter, before, limit) =>
    invoke<Notification[]>('search_notifications', { filter, before, limit }),
  getNotification: (id) => invoke<Notification | null>('get_notification', { id }),
  notificationTypes: () => invoke<string[]>('notification_types'),
  syncedAt: () => invoke<string | null>('synced_at'),
  openLink: (id) => invoke<void>('open_link', { id }),
  takeOpen: () => invoke<OpenWindow | null>('take_open'),
  openWindow: (request) => invoke<void>('open_window', { request }),
  dismiss: () => invoke<void>('dismiss'),
  snoozeLive: (eventId, minutes) => invoke<void>('snooze_live', { eventId, minutes }),
  act: (action) => invoke<void>('act', { action }),
  ask: (question) => invoke<SettingsAnswer>('ask', { question }),
  agentSnapshot: () => invoke<AgentSnapshot>('agent_snapshot'),
  onEvent: (handler) => listen<AgentEvent>(EVENT_NAME, (e) => handler(e.payload)),
};
