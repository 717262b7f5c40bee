/**
 * The popup, end to end: the built popup page (chrome-extension://<id>/popup/popup.html) in real
 * Chromium, talking through the real background, native host and companion processes.
 * Screenshots land in docs/ (light and dark) for the README.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { EXTENSION_ID } from '../../shared/constants.js';
import type { RestoryExport, SessionSummary } from '../../shared/state.js';
import { launchBrowser, type LaunchedBrowser } from '../../companion/browser/launch.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { crashForeground, eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const EXTENSION_DIR = root('dist/extension');
const HOST_SCRIPT = root('dist/companion/native-host/main.js');
const DOCS = root('docs');
const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };

/** The popup's URL, from the built manifest (crxjs keeps the source path: popup/popup.html). */
function popupUrl(): string {
  const manifest = JSON.parse(readFileSync(`${EXTENSION_DIR}/manifest.json`, 'utf8')) as { action: { default_popup: string } };
  return `chrome-extension://${EXTENSION_ID}/${manifest.action.default_popup}`;
}

/** Light and dark screenshots at the popup's width. */
async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(DOCS, { recursive: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: `${DOCS}/${name}.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${DOCS}/${name}-dark.png`, fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
}

async function openPopup(newPage: () => Promise<Page>): Promise<Page> {
  const page = await newPage();
  await page.setViewportSize({ width: 380, height: 200 });
  await page.goto(popupUrl());
  return page;
}

async function listSessions(dataDir: string): Promise<SessionSummary[]> {
  const r = await runCli(['list', '--data-dir', dataDir, '--json'], env);
  if (r.code !== 0) throw new Error(`restory list failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SessionSummary[];
}

describe('popup (real Chromium, extension, native messaging, companion processes)', () => {
  let site: TestSite;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    site = await startTestSite();
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await site?.close();
  });

  it('popup(lists a session left by a SIGKILLed companion and resumes it with its tab and localStorage)', async () => {
    const dataDir = tempDir('restory-popup-');
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

    // Companion 1: a session with some localStorage, snapshotted, then the companion is SIGKILLed.
    const first = await startForeground(['start', '--data-dir', dataDir, '--name', 'before the crash', '--url', `${site.originA}/storage.html`], env);
    cleanups.push(() => stopForeground(first));
    const browser1: Browser = await chromium.connectOverCDP(first.cdp);
    const page1 = await eventually(() => browser1.contexts()[0].pages().find((p) => p.url().endsWith('/storage.html')), 15_000, 'the start page');
    await page1.evaluate(() => localStorage.setItem('popupKey', 'survived the crash'));
    await eventually(
      async () => {
        const r = await runCli(['export', first.sessionId, '--data-dir', dataDir], env);
        const exported = r.code === 0 ? (JSON.parse(r.stdout) as RestoryExport) : null;
        return exported?.state.origins.some((o) => o.localStorage.some((i) => i.name === 'popupKey' && i.value === 'survived the crash'));
      },
      20_000,
      'a snapshot holding popupKey',
    );
    // The machine "crashed": the companion and its browser (which would otherwise be adopted).
    await browser1.close().catch(() => {});
    await crashForeground(first, dataDir);

    // Companion 2 on the same data dir finds the orphan and marks it recoverable.
    const second = await startForeground(['start', '--data-dir', dataDir, '--name', 'after the crash', '--url', `${site.originB}/`], env);
    cleanups.push(() => stopForeground(second));
    expect((await listSessions(dataDir)).find((s) => s.id === first.sessionId)?.state).toBe('recoverable');

    const browser2 = await chromium.connectOverCDP(second.cdp);
    cleanups.push(() => browser2.close());
    const popup = await openPopup(() => browser2.contexts()[0].newPage());

    const orphan = popup.locator(`li[data-session="${first.sessionId}"]`);
    const current = popup.locator(`li[data-session="${second.sessionId}"]`);
    await expect.poll(() => orphan.locator('.badge').textContent(), { timeout: 15_000 }).toBe('recoverable');
    expect(await orphan.locator('.name').textContent()).toBe('before the crash');
    expect(await orphan.locator('.meta').textContent()).toMatch(/^1 tab · snapshot (just now|\d+ s ago)$/);
    expect(await current.getAttribute('class')).toContain('current');
    expect(await current.locator('.current-tag').textContent()).toBe('this browser');
    // The current session can be snapshotted, not resumed or closed; the orphan can be resumed or closed.
    expect(await current.locator('.actions button').allTextContents()).toEqual(['Snapshot now']);
    expect(await orphan.locator('.actions button').allTextContents()).toEqual(['Resume', 'Close']);

    // Filter by state: only the recoverable one.
    await popup.locator('#filter').selectOption('recoverable');
    expect(await popup.locator('li.session').count()).toBe(1);
    await popup.locator('#filter').selectOption('all');
    await screenshots(popup, 'popup');

    // Resume, by keyboard: focus the button, press Enter; progress shows, then the report.
    const resumedAt = Date.now();
    await popup.getByRole('button', { name: 'Resume before the crash' }).focus();
    await popup.keyboard.press('Enter');
    await expect.poll(() => orphan.locator('.progress').textContent(), { timeout: 5000 }).toMatch(/Launching a browser and restoring/);
    const report = popup.locator(`[data-report="${first.sessionId}"]`);
    await report.waitFor({ timeout: 60_000 });
    expect(await report.textContent()).toContain('1 tab restored');
    expect(await report.textContent()).toContain(`✓ ${site.originA}/storage.html`);
    await screenshots(popup, 'popup-resumed');

    // The companion says the session is active again, and a new browser holds its tab with its storage:
    // the page's first script (before any of its own code) saw the restored localStorage.
    const startup = await site.waitForStartupLog((l) => l.page === '/storage.html' && l.at >= resumedAt && !l.framed, 5000);
    expect(startup.local.popupKey).toBe('survived the crash');
    const resumed = await eventually(
      async () => (await listSessions(dataDir)).find((s) => s.id === first.sessionId && s.state === 'active' && s.currentUrl?.endsWith('/storage.html')),
      15_000,
      'the resumed session to be active with its tab',
    );
    expect(resumed.tabCount).toBe(1);
    await expect.poll(() => orphan.locator('.badge').textContent(), { timeout: 10_000 }).toBe('active');

    // Snapshot now, for the current session.
    await current.getByRole('button', { name: /Snapshot now/ }).click();
    await expect.poll(() => current.locator('.outcome').textContent(), { timeout: 10_000 }).toMatch(/Snapshot \d+ saved|Nothing changed/);
  }, 180_000);

  it('popup(says the companion is not running, how to start it, and connects once it runs)', async () => {
    const dataDir = tempDir('restory-popup-down-');
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const browser: LaunchedBrowser = await launchBrowser({ extensionDir: EXTENSION_DIR, hostScript: HOST_SCRIPT, env: { RESTORY_DATA_DIR: dataDir } });
    cleanups.push(() => browser.close());
    const popup = await openPopup(() => browser.context.newPage());
    const screen = popup.locator('[data-screen="companion-down"]');
    await screen.waitFor({ timeout: 15_000 });
    expect(await screen.locator('h2').textContent()).toBe('Companion not running');
    expect(await screen.locator('.command-text').textContent()).toBe('restory start');
    await screenshots(popup, 'popup-companion-down');

    // Start a companion on that data dir: the popup connects on its own and lists this browser's session.
    const companion = await startForeground(['start', '--data-dir', dataDir, '--name', 'elsewhere'], env);
    cleanups.push(() => stopForeground(companion));
    const own = popup.locator('li.session.current');
    await own.waitFor({ timeout: 20_000 });
    expect(await own.locator('.name').textContent()).toBe('own browser');
    await expect.poll(() => popup.locator('li.session').count()).toBe(2);

    // A session whose only tab cannot load: Resume fails, the popup says why, the session shows
    // `failed` with its last error, and Close (confirmed) closes it.
    const now = Date.now();
    const unreachable = 'http://127.0.0.1:1/';
    const exported: RestoryExport = {
      format: 'restory',
      version: 1,
      session: { id: 'ignored', name: 'unreachable site', createdAt: now },
      snapshot: { id: 1, takenAt: now, reason: 'manual' },
      state: {
        cookies: [],
        origins: [],
        tabs: [
          {
            windowIndex: 0,
            index: 0,
            active: true,
            pinned: false,
            url: unreachable,
            title: 'gone',
            history: { entries: [{ url: unreachable, title: 'gone' }], currentIndex: 0 },
            sessionStorage: [],
          },
        ],
        windows: [{ state: 'normal', focused: true }],
        capturedAt: now,
      },
    };
    const file = `${dataDir}/unreachable.json`;
    writeFileSync(file, JSON.stringify(exported));
    const imported = await runCli(['import', file, '--data-dir', dataDir], env);
    expect(imported.code, imported.stderr).toBe(0);
    const importedId = /^session (\S+)$/m.exec(imported.stdout)![1];
    await popup.getByRole('button', { name: 'Refresh the session list' }).click();
    const item = popup.locator(`li[data-session="${importedId}"]`);
    await item.getByRole('button', { name: 'Resume unreachable site' }).click();
    await expect.poll(() => item.locator('.outcome').textContent(), { timeout: 60_000 }).toMatch(/^Resume failed: .*127\.0\.0\.1:1/);
    await expect.poll(() => item.locator('.badge').textContent(), { timeout: 10_000 }).toBe('failed');
    expect(await item.locator('.last-error').textContent()).toMatch(/^Last error: .*127\.0\.0\.1:1/);
    await screenshots(popup, 'popup-failed');

    await item.getByRole('button', { name: 'Close unreachable site' }).click();
    const confirm = item.getByRole('button', { name: 'Close session' });
    expect(await confirm.evaluate((el) => el === document.activeElement)).toBe(true);
    await popup.keyboard.press('Enter');
    await expect.poll(() => item.locator('.badge').textContent(), { timeout: 10_000 }).toBe('closed');
    expect((await listSessions(dataDir)).find((s) => s.id === importedId)?.state).toBe('closed');
  }, 120_000);

  it('popup(says the native host is not installed and gives the install-host command)', async () => {
    const browser = await launchBrowser({ extensionDir: EXTENSION_DIR });
    cleanups.push(() => browser.close());
    const popup = await openPopup(() => browser.context.newPage());
    const screen = popup.locator('[data-screen="host-missing"]');
    await screen.waitFor({ timeout: 15_000 });
    expect(await screen.locator('h2').textContent()).toBe('Native host not installed');
    expect(await screen.locator('.command-text').textContent()).toBe('restory install-host --browser chromium');
    expect(await screen.locator('.detail').textContent()).toContain('Specified native messaging host not found.');
    await screenshots(popup, 'popup-host-missing');
    // Keyboard: Tab reaches Copy, then Retry; Enter on Retry checks again and lands on the same screen.
    await popup.keyboard.press('Tab');
    expect(await popup.evaluate(() => document.activeElement?.textContent)).toBe('Copy');
    await popup.keyboard.press('Tab');
    expect(await popup.evaluate(() => document.activeElement?.textContent)).toBe('Retry');
    await popup.keyboard.press('Enter');
    await screen.waitFor({ timeout: 15_000 });
  }, 60_000);
});
