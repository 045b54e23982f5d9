// A real herald-hub process for the browser tests, with users made by its own command line and
// an app token to send with; and Debian's Chromium driven by playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../..');
export const hubBinary =
  process.env.HERALD_HUB_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'herald-hub');

export const heraldBinary = join(dirname(hubBinary), 'herald');

/** `herald ARGS` (the desktop's headless CLI) on profile `dataDir`, signed in with `token`. */
export function herald(hub, token, dataDir, args) {
  const out = spawnSync(heraldBinary, args, {
    encoding: 'utf8',
    env: { ...process.env, HERALD_SERVER: hub.base, HERALD_TOKEN: token, HERALD_DATA_DIR: dataDir, HERALD_LOG: 'warn' },
  });
  if (out.status !== 0) throw new Error(`herald ${args.join(' ')}: ${out.stderr}`);
  return out.stdout;
}

export class Hub {
  static async start() {
    const hub = new Hub();
    hub.data = mkdtempSync(join(tmpdir(), 'herald-web-'));
    await hub.#spawn('127.0.0.1:0');
    hub.app = hub.cli(['token', 'add', '--app', 'erp']);
    return hub;
  }

  async #spawn(listen) {
    this.process = spawn(hubBinary, ['serve', '--listen', listen, '--data', this.data], {
      env: { ...process.env, HERALD_LOG: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const first = await new Promise((done, fail) => {
      const lines = createInterface({ input: this.process.stdout });
      lines.once('line', done);
      this.process.once('exit', (code) => fail(new Error(`herald-hub exited with ${code}`)));
    });
    this.base = first.replace('herald-hub listening on ', '').trim();
  }

  /** `herald-hub ARGS --data DIR` with `input` on stdin: what it printed. */
  cli(args, input = '') {
    const out = spawnSync(hubBinary, [...args, '--data', this.data], { input, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`herald-hub ${args.join(' ')}: ${out.stderr}`);
    return out.stdout.trim();
  }

  /** A user with a password; their first token. */
  addUser(name, password) {
    return this.cli(['user', 'add', name, '--password-stdin'], `${password}\n`);
  }

  async call(method, path, token, body) {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** The app sends `fields` to `user`: the new notification's id. */
  async send(user, fields) {
    const { status, body } = await this.call('POST', '/v1/notifications', this.app, { to: { user }, ...fields });
    if (status !== 200) throw new Error(`send: ${status} ${JSON.stringify(body)}`);
    return body.ids[0];
  }

  /** The app pushes a live event to `user`: its id. */
  async pushEvent(user, fields) {
    const { status, body } = await this.call('POST', '/v1/events', this.app, { to: { user }, ttl_seconds: 120, ...fields });
    if (status !== 200) throw new Error(`event: ${status} ${JSON.stringify(body)}`);
    return body.id;
  }

  /** Kills the hub (SIGKILL: no goodbye to its feeds), as a crash or a pulled cable would. */
  async kill() {
    const exited = new Promise((done) => this.process.once('exit', done));
    this.process.kill('SIGKILL');
    await exited;
  }

  /** Starts the hub again on the same address and data. */
  async restart() {
    await this.#spawn(new URL(this.base).host);
  }

  stop() {
    this.process.kill();
    rmSync(this.data, { recursive: true, force: true });
  }
}

export async function launchChromium({ headless = true, args = [] } = {}) {
  return chromium.launch({
    executablePath: process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium',
    headless,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...args],
  });
}

/** Counts what pages pass to `Notification`, per page, in `window.__raised`; the notifications
 * themselves are in `window.__shown`, for a test to click (headless Chromium shows none on a
 * screen, so the click is the page's own handler, called as the browser would). */
export const COUNT_NOTIFICATIONS = () => {
  const Real = window.Notification;
  window.__raised = [];
  window.__shown = [];
  class Counted extends Real {
    constructor(title, options) {
      super(title, options);
      window.__raised.push({ title, body: options?.body ?? '' });
      window.__shown.push(this);
    }
  }
  Object.defineProperty(Counted, 'permission', { get: () => Real.permission });
  Counted.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Counted;
};

/** Signs `page` in at the hub's page. */
export async function signIn(page, hub, user, password) {
  await page.goto(hub.base);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
