// The settings window's state: accounts (tokens go to the agent, never back), each hub's
// preferences (a matrix of types by channels, quiet hours), and this device's settings.
import { toIpcError } from './backend';
import type {
  AccountSummary,
  Backend,
  Channel,
  DeviceSettings,
  EmailDelivery,
  EmailModeOverride,
  IpcError,
  Preferences,
  PreferenceOverride,
  PreferencesUpdate,
  QuietHours,
  Schema,
  SettingsAnswer,
  SettingsQuestion,
  TokenStorage,
} from './backend';

export interface AccountForm {
  name: string;
  server: string;
  /** Empty: keep the token kept for this account. */
  token: string;
  /** How to sign in: with the user's name and password (the hub makes a device token), or with
   * a token pasted from elsewhere. */
  via?: 'password' | 'token';
  user?: string;
  password?: string;
}

/** One cell of the matrix as shown: on or off, whether the user may change it, and who decided. */
export interface Cell {
  on: boolean;
  locked: boolean;
  source: 'default' | 'role' | 'user';
}

export class SettingsState {
  accounts = $state.raw<AccountSummary[]>([]);
  storage = $state<TokenStorage>('keyring');
  storageNote = $state<string | null>(null);
  device = $state<DeviceSettings>({ start_at_login: false, sound: true });
  error = $state<IpcError | null>(null);
  /** What the last sign-in test said. */
  tested = $state<{ ok: boolean; message: string } | null>(null);
  /** A note that something was saved ("Saved: the token is in the keyring"). */
  saved = $state<string | null>(null);
  /** Questions still out: account buttons wait for them (preference saves queue instead). */
  #pending = $state(0);
  get busy(): boolean {
    return this.#pending > 0;
  }
  /** Preference saves go one after another, each worked out from what the hub held after the last:
   * two quick switches both land, and neither undoes the other. */
  #saves: Promise<unknown> = Promise.resolve();

  /** The account whose preferences are shown, with its hub's schema and the user's preferences. */
  account = $state<string | null>(null);
  schema = $state.raw<Schema | null>(null);
  preferences = $state.raw<Preferences | null>(null);

  #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async #ask<T extends SettingsAnswer['answer']>(
    question: SettingsQuestion,
    expect: T,
  ): Promise<Extract<SettingsAnswer, { answer: T }> | null> {
    this.#pending += 1;
    try {
      const answer = await this.#backend.ask(question);
      this.error = null;
      if (answer.answer !== expect) throw { code: 'bad_request', message: `the agent answered ${answer.answer}` };
      return answer as Extract<SettingsAnswer, { answer: T }>;
    } catch (e) {
      this.error = toIpcError(e);
      return null;
    } finally {
      this.#pending -= 1;
    }
  }

  async load(): Promise<void> {
    const answer = await this.#ask({ ask: 'settings' }, 'settings');
    if (!answer) return;
    this.accounts = answer.accounts;
    this.storage = answer.storage;
    this.storageNote = answer.storage_note;
    this.device = answer.device;
    const usable = answer.accounts.find((a) => a.has_token && a.server);
    if (this.account === null && usable) await this.showPreferences(usable.name);
  }

  async saveAccount(form: AccountForm): Promise<boolean> {
    const token = form.token.trim() || null;
    const answer = await this.#ask({ ask: 'save_account', name: form.name.trim(), server: form.server.trim(), token }, 'saved');
    if (!answer) return false;
    this.saved = token === null ? `Saved ${form.name}.` : `Saved ${form.name}; ${where(answer.storage)}.`;
    await this.load();
    return true;
  }

  /** Signs in with a user name and password: the agent asks the hub for this device's token
   * and keeps it (the password is kept nowhere). */
  async signIn(form: AccountForm): Promise<boolean> {
    const name = form.name.trim();
    const question = { ask: 'sign_in', name, server: form.server.trim(), user: (form.user ?? '').trim(), password: form.password ?? '' } as const;
    const answer = await this.#ask(question, 'saved');
    if (!answer) return false;
    this.saved = `Signed in as ${question.user} on ${name}; ${where(answer.storage)}.`;
    await this.load();
    return true;
  }

  async removeAccount(name: string): Promise<void> {
    if (!(await this.#ask({ ask: 'remove_account', name }, 'done'))) return;
    this.saved = `Removed ${name}.`;
    if (this.account === name) {
      this.account = null;
      this.schema = null;
      this.preferences = null;
    }
    await this.load();
  }

  async test(form: AccountForm): Promise<void> {
    this.tested = null;
    const token = form.token.trim() || null;
    const account = this.accounts.some((a) => a.name === form.name.trim()) ? form.name.trim() : null;
    const answer = await this.#ask({ ask: 'test_connection', server: form.server.trim(), token, account }, 'tested');
    if (answer) this.tested = { ok: answer.ok, message: answer.message };
  }

  async showPreferences(account: string): Promise<void> {
    // Nothing of another hub stays on screen: a switch saved there would replace this hub's.
    this.account = account;
    this.schema = null;
    this.preferences = null;
    const answer = await this.#ask({ ask: 'preferences', account }, 'preferences');
    if (!answer || this.account !== account) return;
    this.schema = answer.schema;
    this.preferences = answer.preferences;
  }

  /** The matrix cell for `type` and `channel`, as the hub resolved it. */
  cell(type: string, channel: Channel): Cell | null {
    const state = this.preferences?.types.find((t) => t.type === type)?.channels.find((c) => c.channel === channel);
    return state ? { on: state.on, locked: state.locked, source: state.source } : null;
  }

  /** Turns one cell on or off: the user's own switch for it, saved to the hub. False if not saved. */
  toggle(type: string, channel: Channel, enabled: boolean): Promise<boolean> {
    return this.#savePreferences((p) => ({ overrides: [...othersThan(p, type, channel), { type, channel, enabled }] }));
  }

  /** Back to what the user's role or the type says, for this cell. */
  reset(type: string, channel: Channel): Promise<boolean> {
    return this.#savePreferences((p) => ({ overrides: othersThan(p, type, channel) }));
  }

  /** How `type`'s mail goes out for this user (their own choice, saved to the hub). */
  setEmailMode(type: string, mode: EmailDelivery, afterMinutes: number | null): Promise<boolean> {
    const chosen: EmailModeOverride =
      mode === 'unread' ? { type, mode, after_minutes: afterMinutes ?? 15 } : { type, mode };
    return this.#savePreferences((p) => ({
      email_modes: [...(p.email_modes ?? []).filter((m) => m.type !== type), chosen],
    }));
  }

  /** Back to the mail mode the hub's types file gives `type`. */
  resetEmailMode(type: string): Promise<boolean> {
    return this.#savePreferences((p) => ({ email_modes: (p.email_modes ?? []).filter((m) => m.type !== type) }));
  }

  saveQuietHours(quietHours: QuietHours | null): Promise<boolean> {
    return this.#savePreferences(() => ({ quiet_hours: quietHours }));
  }

  #savePreferences(update: (current: Preferences) => PreferencesUpdate): Promise<boolean> {
    const account = this.account;
    const save = async () => {
      // Another account shown by now: this save was for a hub no longer on screen.
      if (!account || this.account !== account || !this.preferences) return false;
      const answer = await this.#ask({ ask: 'save_preferences', account, update: update(this.preferences) }, 'preferences');
      if (!answer || this.account !== account) return false;
      this.schema = answer.schema;
      this.preferences = answer.preferences;
      this.saved = 'Saved to the hub.';
      return true;
    };
    // Run after the last save whether or not it failed.
    const saved = this.#saves.then(save, save);
    this.#saves = saved;
    return saved;
  }

  /** False if the agent did not take it (the switch shown goes back). */
  async setDevice(change: Partial<DeviceSettings>): Promise<boolean> {
    const device = { ...this.device, ...change };
    if (!(await this.#ask({ ask: 'set_device', device }, 'done'))) return false;
    this.device = device;
    return true;
  }
}

/** The user's own switches, but for the one on `type` and `channel`. */
function othersThan(p: Preferences, type: string, channel: Channel): PreferenceOverride[] {
  return p.overrides.filter((o) => !(o.type === type && o.channel === channel));
}

export function where(storage: TokenStorage): string {
  return storage === 'keyring' ? 'the token is in the system keyring' : 'the token is in a file only you can read';
}
