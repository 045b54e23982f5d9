// `node ui/e2e/screenshots.mjs`: docs/screenshots/web-*.png, the web inbox as README shows it
// (sign-in, the inbox with the bell and an open approval, Create notification), light and dark,
// from a real hub with realistic notifications. Run under a display with a notification daemon
// (scripts/web-screenshots.sh does that) it also shows a browser notification as the desktop
// draws it: Chromium in a window, the notification raised through the session bus.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { COUNT_NOTIFICATIONS, Hub, launchChromium, signIn } from './hub.mjs';

const out = resolve(import.meta.dirname, '../../docs/screenshots');
const hub = await Hub.start();
hub.addUser('ann', 'ann-password-1');
hub.cli(['role', 'grant', 'composer', 'ann']);
hub.cli(['role', 'grant', 'managers', 'ann']);
const sends = [
  { type: 'task.due', subject: 'Quarterly report is due today', body: 'Finance needs the Q3 figures by 17:00.' },
  { type: 'crm.order_changed', subject: 'Order 7 shipped', body: 'Acme GmbH — 12 chairs, tracking 1Z999', link: 'https://crm.example/orders/7', tag: 'order-7' },
  { type: 'community.mention', subject: 'Ann mentioned you in “Office move”', body: '@bob can you book the van for Friday?', reply: { placeholder: 'Answer Ann' } },
  { type: 'system.maintenance', subject: 'Planned maintenance on Saturday', body: 'The ERP is down 06:00–08:00.', priority: 'high' },
  {
    type: 'purchase.approval',
    subject: 'Approve PO-2026-0042',
    body: 'Office chairs, 4,200 EUR, requested by Ann Lee',
    link: 'https://erp.example/po/42',
    buttons: [{ value: 'approve', label: 'Approve', style: 'accept' }, { value: 'reject', label: 'Reject', style: 'cancel' }],
  },
];
for (const fields of sends) await hub.send('ann', fields);

const browser = await launchChromium();
for (const scheme of ['light', 'dark']) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 720 }, colorScheme: scheme });
  const page = await context.newPage();
  await page.goto(hub.base);
  await page.getByLabel('User').fill('ann');
  if (scheme === 'light') await page.screenshot({ path: `${out}/web-sign-in.png` });
  await signIn(page, hub, 'ann', 'ann-password-1');
  const approval = page.locator('[data-testid="notification"]', { hasText: 'Approve PO-2026-0042' });
  await approval.getByRole('button').first().click();
  await page.getByTestId('detail').waitFor();
  await page.screenshot({ path: `${out}/web-inbox${scheme === 'dark' ? '-dark' : ''}.png` });
  if (scheme === 'light') {
    await page.getByRole('link', { name: 'Create notification' }).click();
    await page.getByLabel('Subject').fill('Office closed on Friday');
    await page.getByLabel('Body').fill('The heating is being repaired. Please work from home.');
    await page.getByLabel('Audience kind').selectOption('role');
    await page.getByLabel('Audience', { exact: true }).fill('managers');
    await page.getByText('Ask recipients to confirm').click();
    await page.getByTestId('recipient-count').filter({ hasText: 'Reaches' }).waitFor();
    await page.screenshot({ path: `${out}/web-create-notification.png` });
  }
  await context.close();
}
await browser.close();

if (process.env.DISPLAY) {
  const windowed = await launchChromium({ headless: false, args: ['--window-position=0,0', '--window-size=1280,800'] });
  const context = await windowed.newContext({ viewport: null });
  await context.grantPermissions(['notifications'], { origin: hub.base });
  await context.addInitScript(COUNT_NOTIFICATIONS);
  const page = await context.newPage();
  await signIn(page, hub, 'ann', 'ann-password-1');
  await page.getByTestId('signed-in-user').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=connection]') === null);
  await hub.pushEvent('ann', {
    kind: 'shutdown',
    title: 'The file server restarts in 10 minutes',
    body: 'Save your work on S:.',
    at: new Date(Date.now() + 600_000).toISOString(),
  });
  await hub.send('ann', { type: 'community.mention', subject: 'Cid replied to your comment', body: '“Friday works for me, I will bring the van.”' });
  await page.waitForFunction(() => window.__raised.length === 2);
  // The daemon draws its bubble after the D-Bus call returns.
  await new Promise((done) => setTimeout(done, 1500));
  const shot = spawnSync('import', ['-window', 'root', `${out}/web-browser-notification.png`]);
  if (shot.status !== 0) throw new Error(`import: ${shot.stderr}`);
  await windowed.close();
}
hub.stop();
console.log(`screenshots in ${out}`);
