import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AgentEvent, AgentSnapshot, Backend, Notification } from './index';

/** Must match `EVENT_NAME` in src-tauri/src/events.rs. */
const EVENT_NAME = 'herald://event';

export const tauriBackend: Backend = {
  listNotifications: (before, limit) => invoke<Notification[]>('list_notifications', { before, limit }),
  getNotification: (id) => invoke<Notification | null>('get_notification', { id }),
  takeInitialShow: () => invoke<number | null>('take_initial_show'),
  markRead: (ids, read) => invoke<void>('mark_read', { ids, read }),
  agentSnapshot: () => invoke<AgentSnapshot>('agent_snapshot'),
  onEvent: (handler) => listen<AgentEvent>(EVENT_NAME, (e) => handler(e.payload)),
};
