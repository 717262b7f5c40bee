/** launchBrowser: the pieces the companion relies on (pid, CDP endpoint, host manifest, cleanup, crash detection). */
import { expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { launchBrowser } from '../../companion/browser/launch.js';
import { NATIVE_HOST_NAME } from '../../shared/constants.js';

test('launchBrowser exposes CDP, finds the browser pid, writes the host manifest and cleans up', async () => {
  const launched = await launchBrowser({ cdpPort: 0, hostScript: '/nonexistent/main.js', env: { RESTORY_SESSION_ID: 's-1' } });
  try {
    expect(existsSync(join(launched.userDataDir, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`))).toBe(true);
    expect(launched.browserPid).toBeGreaterThan(0);
    const argv = readFileSync(`/proc/${launched.browserPid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain(`--user-data-dir=${launched.userDataDir}`);
    // The environment reaches the browser (and so the native host it spawns).
    expect(readFileSync(`/proc/${launched.browserPid}/environ`, 'utf8').split('\0')).toContain('RESTORY_SESSION_ID=s-1');

    expect(launched.cdpEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const viaCdp = await chromium.connectOverCDP(launched.cdpEndpoint!);
    expect(viaCdp.contexts().length).toBeGreaterThan(0);
    await viaCdp.close(); // disconnects; the browser keeps running
    expect(launched.context.pages().length).toBeGreaterThan(0);
  } finally {
    await launched.close();
  }
  expect(existsSync(launched.userDataDir)).toBe(false);
});

test('a SIGKILLed browser is noticed (context close event) and close() still cleans up', async () => {
  const launched = await launchBrowser();
  const closed = new Promise<void>((resolve) => launched.context.once('close', () => resolve()));
  process.kill(launched.browserPid!, 'SIGKILL');
  await closed;
  await launched.close();
  expect(existsSync(launched.userDataDir)).toBe(false);
});
