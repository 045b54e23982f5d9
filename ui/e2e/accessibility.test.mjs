// The web inbox for keyboard and screen-reader users, in a real Chromium against a real hub:
// axe-core's WCAG 2.1 A and AA rules find nothing on the sign-in page, the inbox (a detail and
// a live event open), settings and Create notification, light and dark; and the inbox works
// from the keyboard alone (sign in, move through the list, open, mark read, reach settings).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { Hub, launchChromium, signIn } from './hub.mjs';

const axe = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let hub;
let browser;
before(async () => {
  hub = await Hub.start();
  hub.addUser('ann', 'ann-password-1');
  hub.cli(['role', 'grant', 'composer', 'ann']);
  await hub.send('ann', { type: 'task.due', subject: 'Quarterly report is due today', body: 'Finance needs the Q3 figures.' });
  await hub.send('ann', { subject: 'Lunch on Friday?', reply: { placeholder: 'Your answer' }, link: 'https://intranet.example/lunch' });
  await hub.send('ann', {
    type: 'purchase.approval',
    subject: 'Approve PO-2026-0042',
    body: 'Office chairs, 4,200 EUR',
    buttons: [{ value: 'approve', label: 'Approve', style: 'accept' }, { value: 'reject', label: 'Reject', style: 'cancel' }],
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  hub?.stop();
});

/** axe-core's WCAG 2.1 A/AA violations on the page as it is, one line each. */
async function violations(page) {
  await page.addScriptTag({ path: axe });
  const found = await page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
    return result.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => `${n.target.join(" ")} (${n.any.map((a) => a.message).join("; ")})`).slice(0, 4).join(", ")}`);
  });
  return found;
}

for (const colorScheme of ['light', 'dark']) {
  describe(`axe-core finds no WCAG 2.1 AA violation (${colorScheme})`, () => {
    // The page's CSP allows no injected script; axe is added by the test alone.
    const open = async () => (await browser.newContext({ colorScheme, bypassCSP: true })).newPage();

    it('on the sign-in page, with a wrong password shown', async () => {
      const page = await open();
      await signIn(page, hub, 'ann', 'wrong');
      await page.getByTestId('sign-in-error').waitFor();
      assert.deepEqual(await violations(page), []);
      await page.context().close();
    });

    it('on the inbox with an approval open and a live event', async () => {
      const page = await open();
      await signIn(page, hub, 'ann', 'ann-password-1');
      await page.getByTestId('signed-in-user').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid=connection]') === null);
      await hub.pushEvent('ann', { kind: 'reminder', title: 'Stand-up in 5 minutes', actions: [{ value: 'done', label: 'Done' }] });
      await page.getByTestId('live').waitFor();
      await page.locator('[data-testid="notification"]', { hasText: 'Approve PO-2026-0042' }).getByRole('button').first().click();
      await page.getByTestId('detail').waitFor();
      assert.deepEqual(await violations(page), []);
      await page.context().close();
    });

    it('on settings and on Create notification', async () => {
      const page = await open();
      await signIn(page, hub, 'ann', 'ann-password-1');
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Devices' }).waitFor();
      await page.getByTestId('preferences').waitFor();
      assert.deepEqual(await violations(page), [], 'settings');
      await page.getByRole('link', { name: 'Create notification' }).click();
      await page.getByLabel('Subject').fill('Office closed on Friday');
      // With confirm buttons, whose preview shows them filled as they will be.
      await page.getByText('Ask recipients to confirm').click();
      await page.getByTestId('compose-preview').locator('.choice').first().waitFor();
      assert.deepEqual(await violations(page), [], 'Create notification');
      await page.context().close();
    });
  });
}

describe('the keyboard alone', () => {
  it('signs in, moves through the inbox, opens, marks read, picks with Shift, and reaches settings', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(hub.base);
    await page.getByLabel('User').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'user', 'Tab starts at the User field');
    await page.keyboard.type('ann');
    await page.keyboard.press('Tab');
    await page.keyboard.type('ann-password-1');
    await page.keyboard.press('Enter');
    await page.getByTestId('signed-in-user').waitFor();
    await page.getByTestId('notification').first().waitFor();
    // Focus on the page body, as after a click on nothing: the inbox's letters act.
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    const cursor = () => page.locator('[data-testid="notification"].cursor').getAttribute('data-id');
    await page.keyboard.press('j');
    const first = await cursor();
    await page.keyboard.press('j');
    const second = await cursor();
    assert.notEqual(first, second, 'j moves down the list');
    await page.keyboard.press('k');
    assert.equal(await cursor(), first, 'k moves back up');
    // The second is a plain one (the first, an approval, stays unread until answered).
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.getByTestId('detail').filter({ hasText: 'Lunch on Friday?' }).waitFor();
    await page.locator(`[data-testid="notification"][data-id="${second}"]:not(.unread)`).waitFor();
    await page.keyboard.press('e');
    await page.locator(`[data-testid="notification"][data-id="${second}"].unread`).waitFor();
    await page.keyboard.press('Shift+j');
    assert.equal(await page.locator('[data-testid="notification"].picked').count(), 2, 'Shift+j picks a range');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('[data-testid="notification"].picked').count(), 0, 'Esc lets go');
    // Tab goes along the header from the bell to Settings; Enter opens it.
    await page.getByTestId('bell').focus();
    let reached = false;
    for (let i = 0; i < 12 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.textContent?.trim() === 'Settings');
    }
    assert.ok(reached, 'Tab reaches Settings within 12 presses');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.context().close();
  });
});
