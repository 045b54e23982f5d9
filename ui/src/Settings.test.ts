// The settings window against a stand-in agent: accounts and where tokens go, the sign-in test,
// the preferences matrix (role defaults shown, locked cells fixed), quiet hours, this device.
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import type { Preferences, Schema, SettingsAnswer, SettingsQuestion } from './lib/backend';
import { MemoryBackend } from './lib/testing/memoryBackend';
import { render, settle } from './lib/testing/render';
import Settings from './Settings.svelte';

const SCHEMA: Schema = {
  channels: ['inbox', 'desktop', 'email'],
  defaults: { channels: ['inbox', 'desktop'], locked: [] },
  modules: [
    {
      module: 'task',
      types: [{ type: 'task.due', title: 'A task is due', critical: false, channels: ['inbox', 'desktop'], locked: [] }],
    },
    {
      module: 'system',
      types: [{ type: 'system.security', title: 'Security alert', critical: true, channels: ['inbox', 'desktop'], locked: ['inbox', 'desktop'] }],
    },
  ],
};

function preferences(overrides: Preferences['overrides'] = [], emailModes: Preferences['email_modes'] = []): Preferences {
  const due = (channel: 'inbox' | 'desktop' | 'email', on: boolean, source: 'default' | 'role' | 'user') => ({ channel, on, locked: channel === 'inbox', source });
  const userDesktop = overrides.find((o) => o.type === 'task.due' && o.channel === 'desktop');
  const userEmail = overrides.find((o) => o.type === 'task.due' && o.channel === 'email');
  return {
    types: [
      {
        type: 'task.due',
        channels: [
          due('inbox', true, 'default'),
          userDesktop ? due('desktop', userDesktop.enabled, 'user') : due('desktop', true, 'default'),
          userEmail ? due('email', userEmail.enabled, 'user') : due('email', true, 'role'),
        ],
        email: emailModes.find((m) => m.type === 'task.due')
          ? { ...emailModes.find((m) => m.type === 'task.due')!, source: 'user' }
          : { mode: 'unread', after_minutes: 15, source: 'default' },
      },
      {
        type: 'system.security',
        channels: [
          { channel: 'inbox', on: true, locked: true, source: 'default' },
          { channel: 'desktop', on: true, locked: true, source: 'default' },
          { channel: 'email', on: false, locked: false, source: 'default' },
        ],
      },
    ],
    overrides,
    email_modes: emailModes,
    email: { address: 'ann@example.org', hub_sends_mail: false, digest_hour: 8, digest_timezone: 'Europe/Berlin' },
    quiet_hours: null,
    dnd_until: null,
  };
}

/** A stand-in agent keeping accounts and one hub's preferences in memory. */
function agent(backend: MemoryBackend) {
  let prefs = preferences();
  const accounts = [{ name: 'default', server: 'http://hub.example/', has_token: true, from_environment: false }];
  backend.answer = (q: SettingsQuestion): SettingsAnswer => {
    switch (q.ask) {
      case 'settings':
        return { answer: 'settings', accounts: [...accounts], storage: 'file', storage_note: 'no keyring service is running', device: { start_at_login: false, sound: true } };
      case 'save_account':
        accounts.push({ name: q.name, server: q.server, has_token: q.token !== null, from_environment: false });
        return { answer: 'saved', storage: 'file' };
      case 'sign_in':
        if (q.password !== 'right') throw { code: 'hub_failed', message: 'wrong user name or password' };
        accounts.push({ name: q.name, server: q.server, has_token: true, from_environment: false });
        return { answer: 'saved', storage: 'keyring' };
      case 'test_connection':
        return { answer: 'tested', ok: q.token === 'hrld_good', message: q.token === 'hrld_good' ? 'Signed in' : 'the hub refused the token' };
      // Copies, as each answer comes over IPC as new objects.
      case 'preferences':
        return { answer: 'preferences', schema: SCHEMA, preferences: structuredClone(prefs) };
      case 'save_preferences':
        prefs = { ...preferences(q.update.overrides ?? prefs.overrides, q.update.email_modes ?? prefs.email_modes), quiet_hours: q.update.quiet_hours === undefined ? prefs.quiet_hours : q.update.quiet_hours };
        return { answer: 'preferences', schema: SCHEMA, preferences: structuredClone(prefs) };
      default:
        return { answer: 'done' };
    }
  };
}

/** Types into a field, as a user does (the page updates before the next thing they do). */
const input = (el: HTMLInputElement, value: string) => {
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
};

describe('settings', () => {
  it('shows the address, that the hub sends no mail, and saves a type’s mail mode', async () => {
    const backend = new MemoryBackend();
    agent(backend);
    const root = await render(backend, Settings);
    const email = root.querySelector('[data-testid="email-settings"]')!;
    expect(email.querySelector('[data-testid="email-address"]')?.textContent).toBe('ann@example.org');
    expect(email.querySelector('[data-testid="email-off"]')?.textContent).toContain('sends no email');
    expect(email.textContent).toContain('08:00 (Europe/Berlin)');
    // Only types whose email is on get a mode: task.due, not system.security.
    const rows = [...email.querySelectorAll<HTMLTableRowElement>('[data-testid="email-modes"] tbody tr')];
    expect(rows.map((r) => r.dataset.type)).toEqual(['task.due']);
    const select = rows[0].querySelector('select')!;
    expect(select.value).toBe('unread');
    select.value = 'digest';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(backend.questions).toContainEqual({
      ask: 'save_preferences',
      account: 'default',
      update: { email_modes: [{ type: 'task.due', mode: 'digest' }] },
    });
    expect(root.querySelector<HTMLSelectElement>('[data-testid="email-modes"] select')!.value).toBe('digest');
  });

  it('says where tokens are kept, tests a sign-in and adds an account', async () => {
    const backend = new MemoryBackend();
    agent(backend);
    const root = await render(backend, Settings);
    expect(root.querySelector('[data-testid="token-storage"]')?.textContent).toContain('a file only you can read (no keyring service is running)');
    root.querySelector<HTMLButtonElement>('[data-testid="add-account"]')!.click();
    await settle();
    const form = root.querySelector<HTMLFormElement>('[data-testid="account-form"]')!;
    input(form.querySelector('[name="name"]')!, 'work');
    input(form.querySelector('[name="server"]')!, 'https://work.example');
    form.querySelector<HTMLInputElement>('[name="via"][value="token"]')!.click();
    flushSync();
    input(form.querySelector('[name="token"]')!, 'hrld_bad');
    root.querySelector<HTMLButtonElement>('[data-testid="test-connection"]')!.click();
    await settle();
    expect(root.querySelector('[data-testid="tested"]')?.textContent).toBe('the hub refused the token');
    input(form.querySelector('[name="token"]')!, 'hrld_good');
    root.querySelector<HTMLButtonElement>('[data-testid="test-connection"]')!.click();
    await settle();
    expect(root.querySelector('[data-testid="tested"]')?.textContent).toBe('Signed in');
    form.requestSubmit();
    await settle();
    expect(backend.questions).toContainEqual({ ask: 'save_account', name: 'work', server: 'https://work.example', token: 'hrld_good' });
    expect(root.querySelector('[data-testid="saved"]')?.textContent).toBe('Saved work; the token is in a file only you can read.');
    expect([...root.querySelectorAll('[data-testid="account"]')].map((a) => a.getAttribute('data-name'))).toEqual(['default', 'work']);
    // The token does not stay on screen.
    expect(form.querySelector<HTMLInputElement>('[name="token"]')!.value).toBe('');
  });

  it('signs a new account in with a user name and password, and keeps no password on screen', async () => {
    const backend = new MemoryBackend();
    agent(backend);
    const root = await render(backend, Settings);
    root.querySelector<HTMLButtonElement>('[data-testid="add-account"]')!.click();
    await settle();
    const form = root.querySelector<HTMLFormElement>('[data-testid="account-form"]')!;
    expect(form.querySelector('[name="token"]'), 'password is the default way').toBeNull();
    input(form.querySelector('[name="name"]')!, 'work');
    input(form.querySelector('[name="server"]')!, 'https://work.example');
    input(form.querySelector('[name="user"]')!, 'bob');
    input(form.querySelector('[name="password"]')!, 'wrong');
    form.requestSubmit();
    await settle();
    expect(root.querySelector('[role="alert"]')?.textContent).toContain('wrong user name or password');
    expect(form.querySelector<HTMLInputElement>('[name="password"]')!.value).toBe('');
    input(form.querySelector('[name="password"]')!, 'right');
    form.requestSubmit();
    await settle();
    expect(backend.questions).toContainEqual({ ask: 'sign_in', name: 'work', server: 'https://work.example', user: 'bob', password: 'right' });
    expect(root.querySelector('[data-testid="saved"]')?.textContent).toBe('Signed in as bob on work; the token is in the system keyring.');
    expect([...root.querySelectorAll('[data-testid="account"]')].map((a) => a.getAttribute('data-name'))).toEqual(['default', 'work']);
    // Now shown as the kept account: no password field to send again, the token unchanged.
    expect(form.querySelector('[name="password"]')).toBeNull();
    expect(form.querySelector<HTMLInputElement>('[name="token"]')!.value).toBe('');
  });

  it('shows the matrix by module with role defaults and locked cells, and saves a switch', async () => {
    const backend = new MemoryBackend();
    agent(backend);
    const root = await render(backend, Settings);
    const cell = (type: string, channel: string) =>
      root.querySelector<HTMLInputElement>(`[data-testid="preferences"] tr[data-type="${type}"] input[data-channel="${channel}"]`)!;
    expect([...root.querySelectorAll('.module th')].map((t) => t.textContent)).toEqual(['task', 'system']);
    expect(cell('system.security', 'desktop').disabled).toBe(true);
    expect(cell('task.due', 'email').closest('td')?.querySelector('.badge')?.textContent).toBe('role');
    cell('task.due', 'desktop').click();
    await settle();
    expect(backend.questions).toContainEqual({
      ask: 'save_preferences',
      account: 'default',
      update: { overrides: [{ type: 'task.due', channel: 'desktop', enabled: false }] },
    });
    expect(cell('task.due', 'desktop').checked).toBe(false);
    root.querySelector<HTMLButtonElement>('tr[data-type="task.due"] .reset')!.click();
    await settle();
    expect(cell('task.due', 'desktop').checked).toBe(true);
  });

  it('saves switches made while the hub is still answering, one after another, none undoing another', async () => {
    const backend = new MemoryBackend();
    agent(backend);
    const root = await render(backend, Settings);
    const cell = (channel: string) => root.querySelector<HTMLInputElement>(`tr[data-type="task.due"] input[data-channel="${channel}"]`)!;
    let answerNow = () => {};
    backend.hold = new Promise((resolve) => (answerNow = resolve));
    cell('desktop').click();
    await settle();
    expect(cell('email').disabled).toBe(false);
    cell('email').click();
    root.querySelector<HTMLButtonElement>('[data-testid="add-quiet"]')!.click();
    root.querySelector<HTMLButtonElement>('[data-testid="save-quiet"]')!.click();
    answerNow();
    await settle();
    const saves = backend.questions.filter((q) => q.ask === 'save_preferences').map((q) => q.update);
    expect(saves).toEqual([
      { overrides: [{ type: 'task.due', channel: 'desktop', enabled: false }] },
      {
        overrides: [
          { type: 'task.due', channel: 'desktop', enabled: false },
          { type: 'task.due', channel: 'email', enabled: false },
        ],
      },
      { quiet_hours: expect.objectContaining({ periods: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '07:00' }] }) },
    ]);
    expect(cell('desktop').checked).toBe(false);
    expect(cell('email').checked).toBe(false);
    expect(root.querySelectorAll('[data-testid="quiet-period"]')).toHaveLength(1);
  });

  it('keeps a quiet period being edited when a switch is saved', async () => {
    const backend = new MemoryBackend();
    agent(backend);
    const root = await render(backend, Settings);
    root.querySelector<HTMLButtonElement>('[data-testid="add-quiet"]')!.click();
    root.querySelector<HTMLButtonElement>('[data-testid="save-quiet"]')!.click();
    await settle();
    root.querySelector<HTMLButtonElement>('[data-testid="add-quiet"]')!.click();
    await settle();
    root.querySelector<HTMLInputElement>('tr[data-type="task.due"] input[data-channel="desktop"]')!.click();
    await settle();
    expect(backend.questions.filter((q) => q.ask === 'save_preferences')).toHaveLength(2);
    expect(root.querySelectorAll('[data-testid="quiet-period"]')).toHaveLength(2);
  });

  it('saves quiet hours and this computer’s own settings', async () => {
    const backend = new MemoryBackend();
    agent(backend);
    const root = await render(backend, Settings);
    root.querySelector<HTMLButtonElement>('[data-testid="add-quiet"]')!.click();
    await settle();
    root.querySelector<HTMLButtonElement>('[data-testid="save-quiet"]')!.click();
    await settle();
    const saved = backend.questions.find((q) => q.ask === 'save_preferences' && q.update.quiet_hours);
    expect(saved).toMatchObject({ update: { quiet_hours: { periods: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '22:00', to: '07:00' }] } } });
    expect(root.querySelectorAll('[data-testid="quiet-period"]')).toHaveLength(1);
    root.querySelector<HTMLInputElement>('[data-testid="sound"]')!.click();
    await settle();
    expect(backend.questions).toContainEqual({ ask: 'set_device', device: { start_at_login: false, sound: false } });
    expect(root.querySelector<HTMLInputElement>('[data-testid="sound"]')!.checked).toBe(false);
  });

  it('puts a switch back when the agent does not take it', async () => {
    const backend = new MemoryBackend();
    agent(backend);
    const answer = backend.answer;
    backend.answer = (q) => {
      if (q.ask === 'set_device') throw { code: 'invalid', message: 'cannot change the autostart entry' };
      return answer(q);
    };
    const root = await render(backend, Settings);
    const sound = root.querySelector<HTMLInputElement>('[data-testid="sound"]')!;
    sound.click();
    await settle();
    expect(sound.checked).toBe(true);
    expect(root.querySelector('[role="alert"]')?.textContent).toContain('cannot change');
  });
});
