// A Playwright script that survives a crash of everything (after `npm run build`):
//   node examples/crash-survival.mjs
// It drives a restory session over CDP, logs in and keeps app state; then the companion AND the
// browser are SIGKILLed, as a machine crash would. `restory resume` brings the session back in a
// new browser, and the script reconnects to the new endpoint and carries on, still logged in.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { restory, restoryForeground, startDemoSite, waitForCapture } from './demo-site.mjs';

// Snapshots every second, so the demo need not wait for one (default 30 s; what is captured is on
// disk at once either way, and a resume after a crash includes it).
process.env.RESTORY_SNAPSHOT_INTERVAL_MS ??= '1000';
const site = await startDemoSite();
const dataDir = mkdtempSync(join(tmpdir(), 'restory-example-'));

// 1. The companion runs in its own process (in real life: another terminal or a service).
const first = await restoryForeground('start', '--data-dir', dataDir, '--url', `${site.url}/`);
let browser = await chromium.connectOverCDP(first.cdpEndpoint);
let page = browser.contexts()[0].pages()[0];
await page.goto(`${site.url}/login?user=alice`);
await page.evaluate(() => localStorage.setItem('draft', 'an unsent message'));
console.log('before the crash:', await page.textContent('#who'));
await waitForCapture(first.sessionId, dataDir, (s) => s.origins.some((o) => o.localStorage.some((i) => i.name === 'draft')));

// 2. The crash: the companion and its browser die at once, nothing saved on the way out.
const { browsers } = JSON.parse(await restory('status', '--data-dir', dataDir, '--json'));
first.process.kill('SIGKILL');
for (const b of browsers) process.kill(-b.pid, 'SIGKILL'); // Chromium runs in its own process group
await browser.close().catch(() => {}); // the connection is dead; drop it

// 3. After the restart: resume, reconnect, go on.
const resumed = await restoryForeground('resume', first.sessionId, '--data-dir', dataDir);
browser = await chromium.connectOverCDP(resumed.cdpEndpoint);
page = browser.contexts()[0].pages().find((p) => p.url().startsWith(site.url));
console.log('after the crash:', await page.textContent('#who'));
console.log('draft:', await page.evaluate(() => localStorage.getItem('draft')));

await browser.close(); // connectOverCDP: only disconnects; the session keeps running
resumed.process.kill('SIGINT'); // Ctrl-C: final snapshot, browser closed, session resumable
await new Promise((r) => resumed.process.once('close', r));
site.close();
