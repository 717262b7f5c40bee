/**
 * Partitioned IndexedDB, end to end (real CLI, Chromium, extension): a cross-site iframe's database
 * (Chromium keeps it under the top-level site) is captured by the iframe's content script under its
 * top origin, survives SIGKILL + `restory resume` — written back from a frame under that top origin
 * before the tab loads — and is where the widget finds it again, while the widget's own origin at top
 * level has none. The Playwright export leaves it out (its format has no partitions), as for
 * localStorage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import type { PlaywrightStorageState, RestoryExport } from '../../shared/state.js';
import { startIndexedDBSite, type IndexedDBSite } from '../fixtures/indexeddb-site.js';
import { crashForeground, eventually, exportSession, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };
const widgetOf = (page: Page) => eventually(() => page.frames().find((f) => f.url().endsWith('/widget.html') && f !== page.mainFrame()), 10_000, 'the widget frame');
const load = (frame: Frame) => frame.evaluate(() => (window as unknown as { load(): Promise<unknown> }).load());

describe('partitioned IndexedDB (a cross-site iframe\'s)', () => {
  let site: IndexedDBSite;
  let dataDir: string;
  let sessionId: string;
  let resumed: ForegroundCompanion | undefined;
  let browser: Browser | undefined;
  const exported = <T>(format: 'restory' | 'playwright'): Promise<T> => exportSession<T>(sessionId, dataDir, env, format);

  beforeAll(async () => {
    site = await startIndexedDBSite();
    dataDir = tempDir();
    const first = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.origin}/embed.html`], env);
    sessionId = first.sessionId;
    const b1 = await chromium.connectOverCDP(first.cdp);
    const page = await eventually(() => b1.contexts()[0].pages().find((p) => p.url().endsWith('/embed.html')), 15_000, 'the embedding tab');
    const widget = await widgetOf(page);
    await widget.evaluate(() => (window as unknown as { save(v: unknown): Promise<void> }).save({ step: 3, at: new Date(5) }));
    await eventually(
      async () => {
        const entry = (await exported<RestoryExport>('restory')).state.origins.find((o) => o.origin === site.crossOrigin);
        return entry?.topOrigin === site.origin && entry.indexedDB?.[0]?.name === 'widget' && entry.indexedDB[0].stores[0].records.length === 1;
      },
      20_000,
      'a snapshot with the widget\'s database under the top origin',
    );
    await b1.close().catch(() => {});
    expect(await crashForeground(first, dataDir)).toBe('SIGKILL');
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(resumed);
    await site?.close();
  });

  it('resume: the widget finds its database again under the same top site; at top level its origin has none', async () => {
    resumed = await startForeground(['resume', sessionId, '--data-dir', dataDir], env);
    browser = await chromium.connectOverCDP(resumed.cdp);
    const context = browser.contexts()[0];
    const page = await eventually(() => context.pages().find((p) => p.url().endsWith('/embed.html')), 15_000, 'the resumed tab');
    const value = (await load(await widgetOf(page))) as { step: number; at: Date };
    expect(value.step).toBe(3);
    expect(value.at instanceof Date ? value.at.getTime() : null).toBe(5);
    const alone = await context.newPage();
    await alone.goto(`${site.crossOrigin}/widget.html`);
    expect(await alone.evaluate(() => (window as unknown as { load(): Promise<unknown> }).load())).toBeUndefined();
    await alone.close();
  }, 60_000);

  it('the Playwright export holds no record of the partitioned database', async () => {
    const state = await exported<PlaywrightStorageState>('playwright');
    const records = state.origins.filter((o) => o.origin === site.crossOrigin).flatMap((o) => o.indexedDB ?? []).flatMap((db) => db.stores.flatMap((st) => st.records));
    expect(records).toEqual([]);
  });
});
