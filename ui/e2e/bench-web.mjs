// `node ui/e2e/bench-web.mjs [RUNS]`: the web inbox's figures for BENCHMARKS.md, against a real
// hub (HERALD_HUB_BIN, else the debug build) in Debian's Chromium:
// - a signed-in page load: navigation to the first of 50 rows listed, p50 and max of 20 loads;
// - the page's JS + CSS, gzipped (from ui/dist-web);
// - the hub's memory per open browser page (40 browser contexts, a feed and the page's keep-alive
//   connections each; the feed alone: `herald-bench web-feeds`).
// Not a test: the machine is shared, so each figure is printed per run, RUNS times (3).
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Hub, launchChromium, signIn } from './hub.mjs';

const runs = Number(process.argv[2] ?? 3);
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const dist = resolve(import.meta.dirname, '../dist-web/assets');
const gz = readdirSync(dist)
  .filter((f) => f.endsWith('.js') || f.endsWith('.css'))
  .reduce((sum, f) => sum + gzipSync(readFileSync(join(dist, f))).length, 0);
console.log(`| the page's JS + CSS, gzipped | ${(gz / 1024).toFixed(1)} KB | target ≤ 100 KB |`);

for (let run = 1; run <= runs; run++) {
  const hub = await Hub.start();
  hub.addUser('ann', 'ann-password-1');
  for (let i = 0; i < 200; i++) await hub.send('ann', { subject: `Notification ${i}`, body: 'Body text' });
  const browser = await launchChromium();
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, hub, 'ann', 'ann-password-1');
  await page.getByTestId('notification').first().waitFor();
  const loads = [];
  for (let i = 0; i < 20; i++) {
    await page.goto(hub.base);
    await page.getByTestId('notification').first().waitFor();
    loads.push(await page.evaluate(() => performance.now()));
  }
  console.log(`| run ${run}: signed-in page, navigation to the first 50 listed | p50 ${quantile(loads, 0.5).toFixed(0)} ms | max ${Math.max(...loads).toFixed(0)} ms | target ≤ 300 ms |`);

  // Signed in first (argon2's 19 MiB per check stays with the allocator), then measured
  // around opening the pages, whose feeds are what is counted. A session each: one session's
  // feeds are capped like a token's (16).
  const contexts = [];
  for (let i = 0; i < 40; i++) {
    const other = await browser.newContext();
    const signedIn = await other.request.post(`${hub.base}/v1/session`, { data: { user: 'ann', password: 'ann-password-1' } });
    if (!signedIn.ok()) throw new Error(`sign-in ${signedIn.status()}`);
    contexts.push(other);
  }
  await new Promise((done) => setTimeout(done, 1000));
  const before = rssKiB(hub.process.pid);
  for (const other of contexts) {
    const tab = await other.newPage();
    await tab.goto(hub.base);
    await tab.getByTestId('notification').first().waitFor();
  }
  // Let the feeds settle (snapshots sent, buffers shrunk).
  await new Promise((done) => setTimeout(done, 2000));
  const after = rssKiB(hub.process.pid);
  console.log(`| run ${run}: hub memory per open browser page (40 pages) | ${((after - before) / 40).toFixed(1)} KiB | ${before} → ${after} KiB |`);
  await browser.close();
  hub.stop();
}
