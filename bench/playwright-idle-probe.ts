/**
 * Child process of the idle-CPU benchmark: the floor for "a Node process holding a Playwright
 * connection to an idle Chromium". Launches Chromium without the extension (same flags as the
 * companion), opens the page, seeds its storage, settles, then prints one JSON line with its own
 * CPU % and its browser's (all processes) over the window.
 *   node dist/bench/playwright-idle-probe.js <url> <settleMs> <windowMs>
 */
import { launchBrowser } from '../companion/browser/launch.js';
import { cpuMs, processTree, sleep } from './harness.js';

const [url, settleMs, windowMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const browser = await launchBrowser({});
try {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(url);
  await page.evaluate(() => {
    for (let i = 0; i < 200; i++) localStorage.setItem(`idle${i}`, 'x'.repeat(200));
  });
  await sleep(settleMs);
  const tree = () => (browser.browserPid ? processTree(browser.browserPid).reduce((sum, p) => sum + cpuMs(p), 0) : NaN);
  const self0 = process.cpuUsage();
  const tree0 = tree();
  const t0 = performance.now();
  await sleep(windowMs);
  const self = process.cpuUsage(self0);
  const elapsed = performance.now() - t0;
  process.stdout.write(
    JSON.stringify({ nodePct: ((self.user + self.system) / 1000 / elapsed) * 100, browserPct: ((tree() - tree0) / elapsed) * 100 }) + '\n',
  );
} finally {
  await browser.close();
}
