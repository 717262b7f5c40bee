/**
 * IndexedDB, end to end with the real CLI, Chromium, extension and native messaging: an app that
 * keeps its login token through idb-keyval and a Dexie-style database (index, auto-increment, Date,
 * Blob, Map values) are captured, the companion and its browser are SIGKILLed, and `restory resume`
 * brings both back before the pages' scripts run; the Playwright export restores them in a plain
 * `newContext({ storageState })`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { findChromium } from '../../companion/browser/find-chromium.js';
import type { PlaywrightStorageState, RestoryExport } from '../../shared/state.js';
import { startIndexedDBSite, type IndexedDBSite } from '../fixtures/indexeddb-site.js';
import { crashForeground, eventually, exportSession, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };

interface NotesPage {
  addNote(title: string, tags: string[], bytes: number): Promise<number>;
  summary(): Promise<Summary>;
}
interface Summary {
  version: number;
  upgraded: boolean;
  keyPath: string;
  autoIncrement: boolean;
  indexes: unknown[];
  notes: Array<{ id: number; title: string; tags: string[]; created: string; blob: { type: string; size: number; sum: number } | null; meta: unknown }>;
  tagged: number[];
}
const notes = (page: Page) => page.evaluate(() => (window as unknown as NotesPage).summary());
const startup = (page: Page) =>
  eventually(() => page.evaluate(() => (window as unknown as { __startup?: { token: { user: string } | null; upgraded: boolean } }).__startup), 10_000, 'the app start-up');

describe('IndexedDB across SIGKILL + resume (real CLI, Chromium, extension)', () => {
  let site: IndexedDBSite;
  let dataDir: string;
  let sessionId: string;
  let before: Summary;
  let resumed: ForegroundCompanion | undefined;
  let resumedAt = 0;
  let browser: Browser | undefined;
  let context: BrowserContext;

  const exported = <T>(format: 'restory' | 'playwright'): Promise<T> => exportSession<T>(sessionId, dataDir, env, format);

  beforeAll(async () => {
    site = await startIndexedDBSite();
    dataDir = tempDir();
    const first = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.origin}/app.html`], env);
    sessionId = first.sessionId;
    const b1 = await chromium.connectOverCDP(first.cdp);
    const c1 = b1.contexts()[0];
    const app = await eventually(() => c1.pages().find((p) => p.url().endsWith('/app.html')), 15_000, 'the app tab');
    expect(await startup(app)).toEqual({ token: null, upgraded: true });
    await app.evaluate(() => (window as unknown as { login(u: string): Promise<void> }).login('alice'));

    const notesPage = await c1.newPage();
    await notesPage.goto(`${site.origin}/notes.html`);
    await notesPage.evaluate(async () => {
      const w = window as unknown as NotesPage;
      await w.addNote('groceries', ['blue', 'home'], 3000);
      await w.addNote('work', ['red'], 70_000);
      await (window as unknown as { storeKey(): Promise<void> }).storeKey();
    });
    before = await notes(notesPage);
    expect(before.notes.map((n) => n.id)).toEqual([1, 2]);

    await eventually(
      async () => {
        const origin = (await exported<RestoryExport>('restory')).state.origins.find((o) => o.origin === site.origin);
        const stores = origin?.indexedDB?.flatMap((db) => db.stores) ?? [];
        return (
          stores.find((s) => s.name === 'keyval')?.records.length === 1 &&
          stores.find((s) => s.name === 'notes')?.records.length === 2 &&
          origin?.indexedDBWarnings?.some((w) => w.includes('vault/keys'))
        );
      },
      20_000,
      'a snapshot holding both databases',
    );
    await b1.close().catch(() => {});
    expect(await crashForeground(first, dataDir)).toBe('SIGKILL');
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(resumed);
    await site?.close();
  });

  it('resume: the app reads its token at start-up and is logged in (the database was there before its scripts ran)', async () => {
    resumedAt = Date.now();
    resumed = await startForeground(['resume', sessionId, '--data-dir', dataDir], { ...env, DEBUG: 'restory:capture' });
    await eventually(() => /restored snapshot \d+: .* 2\/2 tabs/.test(resumed!.stdout()), 15_000, 'the resume report');
    browser = await chromium.connectOverCDP(resumed.cdp);
    context = browser.contexts()[0];
    expect(resumed.stderr()).toMatch(/IndexedDB: 1\/1 origins/);
    // The CryptoKey could not be saved: said at resume (stderr, right after the report on stdout),
    // by database, store, count and type.
    const warning = /warning: .*IndexedDB vault\/keys: 1 value\(s\) could not be saved \(CryptoKey\)/;
    await eventually(() => warning.test(resumed!.stderr()), 5000, 'the CryptoKey warning');
    const app = context.pages().find((p) => p.url().endsWith('/app.html'))!;
    // upgraded: false — idb-keyval's open found keyval-store; it did not have to create it.
    expect(await startup(app)).toEqual({ token: expect.objectContaining({ user: 'alice' }), upgraded: false });
    expect(await app.locator('#status').textContent()).toBe('Logged in as alice');
    const token = await app.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve) => (indexedDB.open('keyval-store').onsuccess = (e) => resolve((e.target as IDBOpenDBRequest).result)));
      const value = await new Promise<{ issued: Date }>((resolve) => (db.transaction('keyval').objectStore('keyval').get('token').onsuccess = (e) => resolve((e.target as IDBRequest).result)));
      db.close();
      return value.issued instanceof Date ? value.issued.getTime() : null;
    });
    expect(token).toBe(1767225600000);
  });

  it('resume: neither tab sends the restored origin back whole (the restore fingerprinted Date/Blob/Map values and index shapes as capture reads them, and told the extension)', async () => {
    // Each tab checks its origin at load and 4 s later; without the fingerprints the first check of
    // the first tab sends the whole origin (well within this wait for these small databases).
    await new Promise((r) => setTimeout(r, Math.max(0, resumedAt + 6000 - Date.now())));
    expect(resumed!.stderr().split('\n').filter((l) => / stored .*indexeddb( |$)/.test(l))).toEqual([]);
  });

  it('resume: the Dexie-style database comes back with its version, key path, indexes, auto-increment and Date/Blob/Map values', async () => {
    const page = context.pages().find((p) => p.url().endsWith('/notes.html'))!;
    const after = await notes(page);
    expect(after).toEqual({ ...before, upgraded: false });
    expect(after.notes[1].blob).toMatchObject({ type: 'application/x-note', size: 70_000 });
    // The key generator goes on after the restored keys; the unique index still holds.
    expect(await page.evaluate(() => (window as unknown as NotesPage).addNote('later', ['blue'], 1))).toBe(3);
    await expect(page.evaluate(() => (window as unknown as NotesPage).addNote('work', [], 1))).rejects.toThrow(/ConstraintError|unique/i);
  });

  it('export --format playwright holds indexedDB that a plain newContext({ storageState }) restores', async () => {
    const state = await exported<PlaywrightStorageState>('playwright');
    const origin = state.origins.find((o) => o.origin === site.origin);
    expect(origin?.indexedDB?.map((db) => db.name).sort()).toEqual(['keyval-store', 'notes-db', 'vault']);
    const file = join(tempDir(), 'state.json');
    writeFileSync(file, JSON.stringify(state));
    const plain = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
    try {
      const ctx = await plain.newContext({ storageState: file });
      const app = await ctx.newPage();
      await app.goto(`${site.origin}/app.html`);
      expect(await startup(app)).toEqual({ token: expect.objectContaining({ user: 'alice' }), upgraded: false });
      const page = await ctx.newPage();
      await page.goto(`${site.origin}/notes.html`);
      const summary = await page.evaluate(async () => {
        const db = await new Promise<IDBDatabase>((resolve) => (indexedDB.open('notes-db').onsuccess = (e) => resolve((e.target as IDBOpenDBRequest).result)));
        const all = await new Promise<Array<{ id: number; created: unknown; meta: unknown }>>((resolve) => (db.transaction('notes').objectStore('notes').getAll().onsuccess = (e) => resolve((e.target as IDBRequest).result)));
        return { version: db.version, notes: all.map((n) => ({ id: n.id, created: n.created instanceof Date, meta: n.meta instanceof Map })) };
      });
      // Playwright's format has no Blob (README limits); Date and Map come through its own tags.
      // As many notes as the export holds (the resumed session may have captured note 3 by now).
      const exportedNotes = origin!.indexedDB!.find((db) => db.name === 'notes-db')!.stores[0].records.length;
      expect(exportedNotes).toBeGreaterThanOrEqual(2);
      expect(summary).toEqual({ version: 30, notes: Array.from({ length: exportedNotes }, (_, i) => ({ id: i + 1, created: true, meta: true })) });
    } finally {
      await plain.close();
    }
  });

  it('import reads the Playwright file back, indexedDB included', async () => {
    const state = await exported<PlaywrightStorageState>('playwright');
    const file = join(tempDir(), 'state.json');
    writeFileSync(file, JSON.stringify(state));
    const r = await runCli(['import', file, '--data-dir', dataDir, '--json'], env);
    expect(r.code).toBe(0);
    const id = (JSON.parse(r.stdout) as { sessionId: string }).sessionId;
    const back = await runCli(['export', id, '--data-dir', dataDir, '--format', 'playwright'], env);
    expect((JSON.parse(back.stdout) as PlaywrightStorageState).origins).toEqual(state.origins);
  });
});
