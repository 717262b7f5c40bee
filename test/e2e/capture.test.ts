/**
 * Capture, end to end: the real CLI starts a real companion process, which launches Chromium with
 * the real extension; the extension streams over real native messaging; `restory export` reads the
 * real database file. The test drives the browser over CDP like an automation user would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { findChromium } from '../../companion/browser/find-chromium.js';
import type { PlaywrightStorageState, RestoryExport } from '../../shared/state.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };

describe('capture (real Chromium, extension, native messaging, companion process)', () => {
  let site: TestSite;
  let dataDir: string;
  let companion: ForegroundCompanion;
  let browser: Browser;
  let context: BrowserContext;
  let tab1: Page;
  let tab2: Page;
  let frameTop: string;

  const exportSession = async (format: 'restory' | 'playwright' = 'restory') => {
    const r = await runCli(['export', companion.sessionId, '--data-dir', dataDir, '--format', format], env);
    if (r.code !== 0) throw new Error(`export failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as unknown;
  };

  beforeAll(async () => {
    site = await startTestSite();
    frameTop = site.originA;
    dataDir = tempDir();
    companion = await startForeground(['start', '--data-dir', dataDir, '--name', 'capture-e2e', '--url', `${site.originA}/login?user=alice`], env);
    browser = await chromium.connectOverCDP(companion.cdp);
    context = browser.contexts()[0];
    tab1 = await eventually(() => context.pages().find((p) => p.url().endsWith('/account')), 15_000, 'the start URL to load');

    // Tab 1: storage through setItem and property assignment, its own sessionStorage, then an SPA.
    await tab1.goto(`${site.originA}/storage.html`);
    await tab1.evaluate(() => {
      const w = window as unknown as Record<string, (k: string, v?: string) => void>;
      w.writeSet('viaSetItem', 'one');
      w.writeProp('viaProperty', 'two ✓ 日本');
      w.writeSet('doomed', 'x');
      w.removeKey('doomed');
      w.writeSession('tabOwn', 'tab-one');
    });
    await tab1.goto(`${site.originA}/spa.html`);
    await tab1.evaluate(() => (window as unknown as { go(p: string): void }).go('/spa/page1'));
    await tab1.evaluate(() => (window as unknown as { hash(h: string): void }).hash('#/a'));

    // Tab 2: 5 MB of localStorage on origin B, then a page of A embedding a (cross-site) iframe of B,
    // whose storage Chromium partitions under A.
    tab2 = await context.newPage();
    await tab2.goto(`${site.originB}/big.html?mb=5`);
    expect(await tab2.evaluate(() => (window as unknown as { fill(): number }).fill())).toBe(5);
    await tab2.goto(`${frameTop}/frame.html`);
    await tab2.evaluate(() => sessionStorage.setItem('tabOwn', 'tab-two'));
    const frame = await eventually(() => tab2.frames().find((f) => f.url().startsWith(site.originB)), 10_000, 'the iframe');
    await frame.evaluate(() => {
      localStorage.setItem('inFrame', 'partitioned');
      sessionStorage.setItem('frameSession', 'yes');
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(companion);
    await site?.close();
  });

  it('export holds every value, cookie, tab URL and per-tab sessionStorage', async () => {
    const exported = await eventually(
      async () => {
        const e = (await exportSession()) as RestoryExport;
        const tabs = e.state.tabs;
        const a = e.state.origins.find((o) => o.origin === site.originA && !o.topOrigin);
        const ready =
          tabs.length === 2 &&
          tabs.some((t) => t.url === `${site.originA}/spa/page1#/a`) &&
          tabs.some((t) => t.sessionStorage.some((s) => s.items.some((i) => i.name === 'frameSession'))) &&
          a?.localStorage.some((i) => i.name === 'viaProperty') &&
          e.state.origins.some((o) => o.topOrigin && o.localStorage.some((i) => i.name === 'inFrame'));
        return ready ? e : null;
      },
      20_000,
      'the export to hold every write',
    );
    const { state } = exported;

    const originA = state.origins.find((o) => o.origin === site.originA && !o.topOrigin)!;
    const valuesA = Object.fromEntries(originA.localStorage.map((i) => [i.name, i.value]));
    expect(valuesA).toMatchObject({ viaSetItem: 'one', viaProperty: 'two ✓ 日本' });
    expect(valuesA).not.toHaveProperty('doomed');

    const big = state.origins.find((o) => o.origin === site.originB && !o.topOrigin)!;
    expect(big.localStorage.filter((i) => i.name.startsWith('big'))).toHaveLength(5);
    expect(big.localStorage.reduce((n, i) => n + i.value.length, 0)).toBeGreaterThan(5 * 1024 * 1024 - 100);

    // The iframe of B under A writes partitioned storage, recorded with its top origin.
    const partitioned = state.origins.find((o) => o.origin === site.originB && o.topOrigin === site.originA)!;
    expect(partitioned.localStorage).toContainEqual({ name: 'inFrame', value: 'partitioned' });
    expect(big.localStorage.map((i) => i.name)).not.toContain('inFrame');

    const sid = state.cookies.find((c) => c.name === 'sid')!;
    expect(sid).toMatchObject({ httpOnly: true, expires: -1, sameSite: 'Lax', path: '/' });
    expect(state.cookies.find((c) => c.name === 'pref')!.expires).toBeGreaterThan(Date.now() / 1000);

    const spaTab = state.tabs.find((t) => t.url === `${site.originA}/spa/page1#/a`)!;
    const frameTab = state.tabs.find((t) => t.url === `${frameTop}/frame.html`)!;
    expect(spaTab.sessionStorage).toContainEqual({ origin: site.originA, items: [{ name: 'tabOwn', value: 'tab-one' }] });
    expect(frameTab.sessionStorage).toContainEqual({ origin: frameTop, items: [{ name: 'tabOwn', value: 'tab-two' }] });
    expect(frameTab.sessionStorage.find((s) => s.origin === site.originB)?.items).toContainEqual({ name: 'frameSession', value: 'yes' });
    // pushState and hash navigations are entries of the tab's back/forward list.
    expect(spaTab.history.entries.map((e) => e.url)).toEqual(
      expect.arrayContaining([`${site.originA}/spa.html`, `${site.originA}/spa/page1`, `${site.originA}/spa/page1#/a`]),
    );
    expect(spaTab.history.entries[spaTab.history.currentIndex].url).toBe(spaTab.url);
  });

  it('the playwright export logs a plain Playwright context in', async () => {
    const storageState = (await exportSession('playwright')) as PlaywrightStorageState;
    expect(Object.keys(storageState).sort()).toEqual(['cookies', 'origins']);
    const plain = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
    try {
      const ctx = await plain.newContext({ storageState });
      const page = await ctx.newPage();
      await page.goto(`${site.originA}/account`);
      await expect(page.locator('#who').textContent()).resolves.toBe('Logged in as alice');
      await page.goto(`${site.originA}/storage.html`);
      expect(await page.evaluate(() => localStorage.getItem('viaProperty'))).toBe('two ✓ 日本');
    } finally {
      await plain.close();
    }
  });

  it('snapshots lists the snapshots taken', async () => {
    const r = await runCli(['snapshots', companion.sessionId, '--data-dir', dataDir, '--json'], env);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { id: number; reason: string; tabs: number }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0].tabs).toBe(2);
  });
});
