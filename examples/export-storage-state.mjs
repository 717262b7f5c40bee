// From a restory session to a Playwright test's logged-in start (after `npm run build`):
//   node examples/export-storage-state.mjs
// Log in once in a restory session, export it in Playwright's storageState format, and start any
// number of fresh browsers from that file. In @playwright/test the same file goes in the config:
//   use: { storageState: 'state.json' }
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strict as assert } from 'node:assert';
import { chromium } from 'playwright-core';
import { restory, restoryForeground, startDemoSite, waitForCapture } from './demo-site.mjs';

// Snapshots every second, so the demo need not wait for one (default 30 s; what is captured is on
// disk at once either way, and a resume after a crash includes it).
process.env.RESTORY_SNAPSHOT_INTERVAL_MS ??= '1000';
const site = await startDemoSite();
const dataDir = mkdtempSync(join(tmpdir(), 'restory-example-'));
const stateFile = join(dataDir, 'state.json');

const session = await restoryForeground('start', '--data-dir', dataDir, '--url', `${site.url}/login?user=alice`);
await waitForCapture(session.sessionId, dataDir, (s) => s.cookies.some((c) => c.name === 'sid'));
session.process.kill('SIGINT'); // Ctrl-C: a final snapshot, then the companion stops
await new Promise((r) => session.process.once('close', r));
await restory('export', session.sessionId, '--format', 'playwright', '-o', stateFile, '--data-dir', dataDir);

// What a test does: a fresh browser, a context from the file, and the app is logged in at once.
const browser = await chromium.launch({ executablePath: process.env.RESTORY_CHROMIUM ?? '/usr/bin/chromium' });
const context = await browser.newContext({ storageState: stateFile });
const page = await context.newPage();
await page.goto(`${site.url}/`);
assert.equal(await page.textContent('#who'), 'Logged in as alice');
console.log('fresh browser from the export:', await page.textContent('#who'));
await browser.close();
site.close();
