// The web inbox in a real Chromium against a real herald-hub serving its embedded page
// (issue 18): sign-in, live arrival, confirm and reply reaching the hub, a click on a browser
// notification, live events, one browser notification for two tabs, the title count, the hub
// going away and coming back, sign-out, a revoked device, a foreign Origin refused, and the XSS
// corpus shown as text.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COUNT_NOTIFICATIONS, herald, Hub, launchChromium, signIn } from './hub.mjs';

let hub;
let browser;
let bobs;
before(async () => {
  hub = await Hub.start();
  hub.addUser('ann', 'ann-password-1');
  hub.addUser('bob', 'bob-password-1');
  const basic = Buffer.from('bob:bob-password-1').toString('base64');
  const made = await fetch(`${hub.base}/v1/devices`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'test reader' }),
  });
  bobs = (await made.json()).token;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  hub?.stop();
});

const newTab = async (options = {}) => (await browser.newContext(options)).newPage();

describe('signing in', () => {
  it('a wrong password shows a message and sets no cookie; the right one opens the inbox', async () => {
    const page = await newTab();
    await signIn(page, hub, 'ann', 'wrong');
    await page.getByTestId('sign-in-error').waitFor();
    assert.match(await page.getByTestId('sign-in-error').textContent(), /Wrong user name or password/);
    assert.deepEqual(await page.context().cookies(), []);
    await page.getByLabel('Password').fill('ann-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-user').waitFor();
    assert.equal(await page.getByTestId('signed-in-user').textContent(), 'ann');
    const [cookie] = await page.context().cookies();
    assert.equal(cookie.name, 'herald_session');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the page cannot read it');
    await page.context().close();
  });

  it('the page has a strict Content-Security-Policy and loads nothing from elsewhere', async () => {
    const page = await newTab();
    const hosts = new Set();
    page.on('request', (request) => hosts.add(new URL(request.url()).host));
    const response = await page.goto(hub.base);
    const csp = response.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe/);
    await page.getByLabel('User').waitFor();
    assert.deepEqual([...hosts], [new URL(hub.base).host]);
    await page.context().close();
  });
});

describe('the inbox', () => {
  it('shows a new notification live, counts it in the title, and confirms on the hub', async () => {
    const page = await newTab();
    await signIn(page, hub, 'bob', 'bob-password-1');
    await page.getByTestId('signed-in-user').waitFor();
    await page.waitForFunction(() => document.title === 'Herald');
    const id = await hub.send('bob', {
      subject: 'Approve PO-42',
      body: 'Office chairs',
      type: 'purchase.approval',
      buttons: [{ value: 'approve', label: 'Approve', style: 'accept' }, { value: 'reject', label: 'Reject', style: 'cancel' }],
    });
    const row = page.locator(`[data-testid="notification"][data-id="${id}"]`);
    await row.waitFor();
    await page.waitForFunction(() => document.title === '(1) Herald');
    assert.equal(await page.getByTestId('bell-count').textContent(), '1');
    await row.getByRole('button').click();
    await page.getByTestId('detail').getByRole('button', { name: 'Approve' }).click();
    await page.getByTestId('answer').waitFor();
    const bobs = await hub.call('GET', '/v1/notifications', bobToken());
    assert.equal(bobs.body.items.find((n) => n.id === id).answer.value, 'approve');
    await page.context().close();
  });

  it('a reply typed in the detail pane reaches the hub', async () => {
    const id = await hub.send('bob', { subject: 'Lunch on Friday?', reply: { placeholder: 'Your answer' } });
    const page = await newTab();
    await signIn(page, hub, 'bob', 'bob-password-1');
    await page.locator(`[data-testid="notification"][data-id="${id}"]`).getByRole('button').click();
    await page.getByTestId('detail').getByPlaceholder('Your answer').fill('Yes, at noon');
    await page.getByTestId('detail').getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('answer').filter({ hasText: 'Yes, at noon' }).waitFor();
    const listed = await hub.call('GET', '/v1/notifications', bobToken());
    assert.equal(listed.body.items.find((n) => n.id === id).answer.text, 'Yes, at noon');
    await page.context().close();
  });

  it('clicking a browser notification brings the inbox up at that notification', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: hub.base });
    await context.addInitScript(COUNT_NOTIFICATIONS);
    const page = await context.newPage();
    await signIn(page, hub, 'bob', 'bob-password-1');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    const id = await hub.send('bob', { subject: 'Your parcel has arrived', body: 'At the front desk' });
    await page.waitForFunction(() => window.__shown.length === 1);
    assert.deepEqual(await page.evaluate(() => window.__raised), [{ title: 'Your parcel has arrived', body: 'At the front desk' }]);
    await page.evaluate(() => window.__shown[0].onclick(new Event('click')));
    await page.getByTestId('detail').filter({ hasText: 'Your parcel has arrived' }).waitFor();
    // The list may render its rows a moment after the detail pane: wait for the row, then count.
    const selected = page.locator(`[data-testid="notification"][data-id="${id}"].selected`);
    await selected.waitFor();
    assert.equal(await selected.count(), 1);
    await context.close();
  });

  it('a live call shows atop the inbox with one browser notification, and is answered on the hub', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: hub.base });
    await context.addInitScript(COUNT_NOTIFICATIONS);
    const page = await context.newPage();
    await signIn(page, hub, 'bob', 'bob-password-1');
    await page.getByTestId('signed-in-user').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=connection]') === null);
    const buttons = [{ value: 'answer', label: 'Answer', style: 'accept' }, { value: 'decline', label: 'Decline', style: 'cancel' }];
    const call = await hub.pushEvent('bob', { kind: 'call', title: 'Ann is calling', body: 'Line 2', actions: buttons });
    const card = page.locator(`[data-testid="live"][data-id="${call}"]`);
    await card.filter({ hasText: 'Ann is calling' }).waitFor();
    assert.deepEqual(await page.evaluate(() => window.__raised), [{ title: 'Ann is calling', body: 'Line 2' }]);
    await card.getByRole('button', { name: 'Answer' }).click();
    await card.waitFor({ state: 'detached' });
    const again = await hub.call('POST', `/v1/events/${call}/respond`, bobToken(), { action: 'answer' });
    assert.equal(again.status, 409, 'the hub has the answer from the page already');

    // Answered on another device: the card goes here too.
    const second = await hub.pushEvent('bob', { kind: 'call', title: 'Cid is calling', actions: buttons });
    await page.locator(`[data-testid="live"][data-id="${second}"]`).waitFor();
    assert.equal((await hub.call('POST', `/v1/events/${second}/respond`, bobToken(), { action: 'decline' })).status, 200);
    await page.locator(`[data-testid="live"][data-id="${second}"]`).waitFor({ state: 'detached' });
    await context.close();
  });

  it('browser pop-ups switched off for a type in settings raise none, while its desktop toasts stay on', async () => {
    const dees = hub.addUser('dee', 'dee-password-1');
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: hub.base });
    await context.addInitScript(COUNT_NOTIFICATIONS);
    const page = await context.newPage();
    await signIn(page, hub, 'dee', 'dee-password-1');
    await page.getByRole('link', { name: 'Settings' }).click();
    const cell = page.locator('[data-testid="preferences"] tr[data-type="task.due"] input[data-channel="web_push"]');
    await cell.click();
    await page.locator('[data-testid="preferences"] tr[data-type="task.due"] .reset').waitFor();
    await page.getByTestId('bell').click();
    await hub.send('dee', { type: 'task.due', subject: 'Report due' });
    await hub.send('dee', { type: 'general', subject: 'Coffee?' });
    await page.locator('[data-testid="notification"]', { hasText: 'Coffee?' }).waitFor();
    await page.locator('[data-testid="notification"]', { hasText: 'Report due' }).waitFor();
    assert.deepEqual((await page.evaluate(() => window.__raised)).map((n) => n.title), ['Coffee?']);
    const listed = await hub.call('GET', '/v1/notifications', dees);
    assert.deepEqual(listed.body.items.find((n) => n.subject === 'Report due').channels, ['inbox', 'desktop']);
    await context.close();
  });

  it("a mail's link (#n=ID) opens that notification, even one far below the first page, after signing in", async () => {
    hub.addUser('eli', 'eli-password-1');
    const old = await hub.send('eli', { subject: 'The oldest one, linked from a mail' });
    for (let i = 0; i < 60; i++) await hub.send('eli', { subject: `Newer ${i}` });
    const page = await newTab();
    await page.goto(`${hub.base}/#n=${old}`);
    await page.getByLabel('User').fill('eli');
    await page.getByLabel('Password').fill('eli-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('detail').filter({ hasText: 'The oldest one, linked from a mail' }).waitFor();
    // Someone else's id opens nothing.
    await page.goto(`${hub.base}/#n=1`);
    await page.getByTestId('signed-in-user').waitFor();
    await page.getByTestId('notification').first().waitFor();
    assert.equal(await page.getByTestId('detail').filter({ hasText: 'Approve PO-42' }).count(), 0);
    await page.context().close();
  });

  it('two tabs of one browser raise one browser notification between them', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: hub.base });
    await context.addInitScript(COUNT_NOTIFICATIONS);
    const first = await context.newPage();
    await signIn(first, hub, 'ann', 'ann-password-1');
    await first.getByTestId('signed-in-user').waitFor();
    const second = await context.newPage();
    await second.goto(hub.base);
    await second.getByTestId('signed-in-user').waitFor();
    await hub.send('ann', { subject: 'Ann, the build is green' });
    for (const page of [first, second]) {
      await page.locator('[data-testid="notification"]', { hasText: 'the build is green' }).waitFor();
    }
    // Give a second notification, if any tab were to raise one, time to appear.
    await hub.send('ann', { subject: 'Second one' });
    for (const page of [first, second]) {
      await page.locator('[data-testid="notification"]', { hasText: 'Second one' }).waitFor();
    }
    const raised = [...(await first.evaluate(() => window.__raised)), ...(await second.evaluate(() => window.__raised))];
    assert.deepEqual(raised.map((n) => n.title).sort(), ['Ann, the build is green', 'Second one']);
    await context.close();
  });

  it('shows the XSS corpus as text, runs none of it and links none of it', async () => {
    const payloads = [
      '<script>window.__xss = 1</script>',
      '<img src=x onerror="window.__xss = 2">',
      '<svg onload="window.__xss = 3"></svg>',
      '"><iframe src="javascript:window.__xss = 4">',
      '{{constructor.constructor("window.__xss = 5")()}}',
      'invoice\u202Efdp.exe',
    ];
    for (const text of payloads) await hub.send('bob', { subject: text, body: text, link: 'javascript:window.__xss=6' });
    const page = await newTab();
    page.on('dialog', () => assert.fail('a dialog opened'));
    await signIn(page, hub, 'bob', 'bob-password-1');
    await page.locator('[data-testid="notification"]', { hasText: '<script>' }).waitFor();
    for (const row of await page.getByTestId('notification').all()) {
      await row.getByRole('button').first().click();
      await page.getByTestId('detail').waitFor();
    }
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('main iframe, main img[src="x"], main a[href^="javascript"]').count(), 0);
    assert.equal(await page.locator('[data-testid="open-link"]').count(), 0, 'a javascript: link is not offered');
    await page.context().close();
  });
});

describe('the web inbox and the desktop', () => {
  it("a read in the browser reaches the desktop's mirror, and a read on the desktop shows in the browser", async () => {
    const desktop = mkdtempSync(join(tmpdir(), 'herald-desktop-'));
    const fromWeb = await hub.send('bob', { subject: 'Read me in the browser' });
    const fromDesktop = await hub.send('bob', { subject: 'Read me on the desktop' });
    herald(hub, bobToken(), desktop, ['sync']);
    const page = await newTab();
    await signIn(page, hub, 'bob', 'bob-password-1');
    const webRow = page.locator(`[data-testid="notification"][data-id="${fromWeb}"]`);
    await webRow.getByRole('button').click();
    await page.locator(`[data-testid="notification"][data-id="${fromWeb}"]:not(.unread)`).waitFor();
    herald(hub, bobToken(), desktop, ['sync']);
    assert.equal(JSON.parse(herald(hub, bobToken(), desktop, ['show', String(fromWeb)])).read, true);

    herald(hub, bobToken(), desktop, ['read', String(fromDesktop)]);
    await page.locator(`[data-testid="notification"][data-id="${fromDesktop}"]:not(.unread)`).waitFor();
    await page.context().close();
  });
});

describe('the hub going away', () => {
  it('the page says so, and once the hub is back it catches up with no gap and no duplicate', async () => {
    const own = await Hub.start();
    try {
      own.addUser('cy', 'cy-password-1');
      const page = await newTab();
      await signIn(page, own, 'cy', 'cy-password-1');
      const before = await own.send('cy', { subject: 'Before the outage' });
      await page.locator(`[data-testid="notification"][data-id="${before}"]`).waitFor();
      await own.kill();
      await page.getByTestId('connection').filter({ hasText: 'Offline' }).waitFor();
      assert.equal(await page.getByTestId('notification').count(), 1, 'what was listed stays listed');
      await own.restart();
      // Sent while the page is still waiting to retry: it comes from the feed's replay.
      const during = await own.send('cy', { subject: 'Sent while the page was away' });
      await page.locator(`[data-testid="notification"][data-id="${during}"]`).waitFor({ timeout: 45_000 });
      await page.getByTestId('connection').waitFor({ state: 'detached' });
      const after = await own.send('cy', { subject: 'After the outage' });
      await page.locator(`[data-testid="notification"][data-id="${after}"]`).waitFor();
      const ids = await page.getByTestId('notification').evaluateAll((rows) => rows.map((r) => Number(r.dataset.id)));
      assert.deepEqual(ids, [after, during, before]);
      await page.waitForFunction(() => document.title === '(3) Herald');
      await page.context().close();
    } finally {
      own.stop();
    }
  });
});

describe('create notification', () => {
  it('a composer counts a role before sending to it; a plain user is not offered the form', async () => {
    hub.cli(['role', 'grant', 'composer', 'ann']);
    hub.cli(['role', 'grant', 'finance', 'bob']);
    const page = await newTab();
    await signIn(page, hub, 'ann', 'ann-password-1');
    await page.getByRole('link', { name: 'Create notification' }).click();
    await page.getByLabel('Subject').fill('Office closed on Friday');
    await page.getByLabel('Body').fill('The heating is being repaired.');
    await page.getByLabel('Audience kind').selectOption('role');
    await page.getByLabel('Audience', { exact: true }).fill('finance');
    await page.getByTestId('recipient-count').filter({ hasText: 'Reaches 1 person' }).waitFor();
    assert.match(await page.getByTestId('compose-preview').textContent(), /Office closed on Friday/);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('status').filter({ hasText: 'Sent to 1 person' }).waitFor();
    const bobs = await hub.call('GET', '/v1/notifications', bobToken());
    const got = bobs.body.items.find((n) => n.subject === 'Office closed on Friday');
    assert.equal(got.sender, 'ann');
    await page.context().close();

    const plain = await newTab();
    await signIn(plain, hub, 'bob', 'bob-password-1');
    await plain.getByTestId('signed-in-user').waitFor();
    assert.equal(await plain.getByRole('link', { name: 'Create notification' }).count(), 0);
    await plain.context().close();
  });
});

describe('sessions and devices', () => {
  it('signing out clears the cookie and the page goes back to sign-in', async () => {
    const page = await newTab();
    await signIn(page, hub, 'ann', 'ann-password-1');
    await page.getByTestId('signed-in-user').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('User').waitFor();
    assert.deepEqual(await page.context().cookies(), []);
    await page.context().close();
  });

  it('settings show the address an admin set, that this hub sends no mail, and save a type’s mail mode', async () => {
    const eves = hub.addUser('eve', 'eve-password-1');
    hub.cli(['user', 'set', 'eve', '--email', 'eve@example.org']);
    const page = await newTab();
    await signIn(page, hub, 'eve', 'eve-password-1');
    await page.getByRole('link', { name: 'Settings' }).click();
    assert.equal(await page.getByTestId('email-address').textContent(), 'eve@example.org');
    assert.match(await page.getByTestId('email-off').textContent(), /sends no email/);
    const mode = page.getByRole('combobox', { name: 'A task was assigned to you: when email is sent' });
    assert.equal(await mode.inputValue(), 'unread');
    await mode.selectOption('digest');
    await page.getByRole('button', { name: 'Use the default' }).waitFor();
    const { body } = await hub.call('GET', '/v1/preferences', eves);
    assert.deepEqual(body.email_modes, [{ type: 'task.assigned', mode: 'digest' }]);
    assert.equal(body.types.find((t) => t.type === 'task.assigned').email.source, 'user');
    await page.context().close();
  });

  it('a device revoked in settings loses its token at once', async () => {
    const basic = Buffer.from('ann:ann-password-1').toString('base64');
    const made = await fetch(`${hub.base}/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Old laptop' }),
    });
    const { token } = await made.json();
    assert.equal((await hub.call('GET', '/v1/inbox', token)).status, 200);
    const page = await newTab();
    await signIn(page, hub, 'ann', 'ann-password-1');
    await page.getByTestId('signed-in-user').waitFor();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Revoke Old laptop' }).click();
    await page.getByRole('button', { name: 'Revoke Old laptop' }).waitFor({ state: 'detached' });
    assert.equal((await hub.call('GET', '/v1/inbox', token)).status, 401);
    await page.context().close();
  });

  it("another site's page cannot act with the cookie, nor open the feed", async () => {
    // Another origin of the same site (same host, another port): the browser sends the
    // SameSite=Strict cookie, so only the hub's Origin check stands in the way.
    const evil = createServer((_, res) => res.end('<!doctype html><title>evil</title>'));
    await new Promise((done) => evil.listen(0, '127.0.0.1', done));
    const evilBase = `http://127.0.0.1:${evil.address().port}`;
    const page = await newTab();
    await signIn(page, hub, 'bob', 'bob-password-1');
    await page.getByTestId('signed-in-user').waitFor();
    const id = await hub.send('bob', { subject: 'Keep me unread' });
    await page.goto(evilBase);
    const outcome = await page.evaluate(
      async ({ hubBase }) => {
        const post = await fetch(`${hubBase}/v1/notifications/read-all`, { method: 'POST', credentials: 'include', mode: 'no-cors' }).then(
          () => 'sent',
          (e) => String(e),
        );
        const feed = await new Promise((done) => {
          const ws = new WebSocket(`${hubBase.replace('http', 'ws')}/v1/feed`);
          ws.onopen = () => done('opened');
          ws.onerror = () => done('refused');
        });
        return { post, feed };
      },
      { hubBase: hub.base },
    );
    assert.deepEqual(outcome, { post: 'sent', feed: 'refused' });
    const bobs = await hub.call('GET', '/v1/notifications', bobToken());
    assert.equal(bobs.body.items.find((n) => n.id === id).read, false, 'the cross-site POST changed nothing');
    await page.context().close();
    evil.close();
  });
});

/** Bob's device token, made in `before` by signing in with HTTP Basic. */
function bobToken() {
  return bobs;
}
