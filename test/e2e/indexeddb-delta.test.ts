/**
 * IndexedDB changes travel as deltas (shared/indexeddb-delta.ts), end to end with the real CLI,
 * Chromium, extension and native messaging: once the companion holds an origin, updates, inserts
 * and deletes in two stores reach it as `indexeddb.delta` events (seen in the companion's capture
 * log) and what it holds is exactly what the page's database holds; a second tab of the origin
 * writing in turn sends deltas too (on the service worker's fingerprint of what the companion holds,
 * not its own stale read); after SIGKILL + resume the database is back as it was, and the resumed
 * browser does not send the restored origin back whole, whichever of its two tabs writes (the restore
 * fingerprinted what it wrote and told the extension).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { IndexedDBDatabase } from '../../shared/indexeddb.js';
import { startIndexedDBSite, type IndexedDBSite } from '../fixtures/indexeddb-site.js';
import { crashForeground, eventually, exportSession, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000', DEBUG: 'restory:capture' };
type Contents = Record<string, Array<[string, unknown]>>;

/** Every store of database `bulk` as [key, value] pairs, read in the page. */
const pageContents = (page: Page): Promise<Contents> =>
  page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve) => (indexedDB.open('bulk').onsuccess = (e) => resolve((e.target as IDBOpenDBRequest).result)));
    const out: Record<string, Array<[string, unknown]>> = {};
    for (const name of [...db.objectStoreNames]) {
      const store = db.transaction(name).objectStore(name);
      const [keys, values] = await Promise.all(
        [store.getAllKeys(), store.getAll()].map((r) => new Promise<unknown[]>((resolve) => (r.onsuccess = () => resolve(r.result as unknown[])))),
      );
      out[name] = keys.map((k, i) => [String(k), values[i]]);
    }
    db.close();
    return out;
  });

/** Run writes on database `bulk` in one readwrite transaction: [store, key, value] puts, [store, key] deletes. */
const write = (page: Page, ops: Array<[string, string, unknown?]>) =>
  page.evaluate(async (list) => {
    const db = await new Promise<IDBDatabase>((resolve) => (indexedDB.open('bulk').onsuccess = (e) => resolve((e.target as IDBOpenDBRequest).result)));
    const tx = db.transaction(['items', 'meta'], 'readwrite');
    for (const [store, key, value] of list) {
      if (value === undefined) tx.objectStore(store).delete(key);
      else tx.objectStore(store).put(value, key);
    }
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
  }, ops);

const heldContents = (databases: IndexedDBDatabase[] | undefined): Contents | undefined => {
  const db = databases?.find((d) => d.name === 'bulk');
  if (!db) return undefined;
  return Object.fromEntries(db.stores.map((s) => [s.name, s.records.map((r) => [String(r.key), r.value])]));
};

describe('IndexedDB deltas (real CLI, Chromium, extension)', () => {
  let site: IndexedDBSite;
  let dataDir: string;
  let first: ForegroundCompanion | undefined;
  let resumed: ForegroundCompanion | undefined;
  let browser: Browser | undefined;
  let sessionId: string;
  let expected: Contents;

  const exported = () => exportSession(sessionId, dataDir, env);
  const held = async () => heldContents((await exported()).state.origins.find((o) => o.origin === site.origin)?.indexedDB);
  const deltas = (c: ForegroundCompanion) => c.stderr().split('\n').filter((l) => / stored .*indexeddb\.delta/.test(l)).length;
  const wholes = (c: ForegroundCompanion) => c.stderr().split('\n').filter((l) => / stored .*indexeddb( |$)/.test(l)).length;

  beforeAll(async () => {
    site = await startIndexedDBSite();
    dataDir = tempDir();
    first = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.origin}/app.html`], env);
    sessionId = first.sessionId;
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(first);
    await stopForeground(resumed);
    await site?.close();
  });

  it('after the first whole report, updates, inserts and deletes in two stores arrive as deltas and the companion holds exactly the page database', async () => {
    const b = await chromium.connectOverCDP(first!.cdp);
    const page = await eventually(() => b.contexts()[0].pages().find((p) => p.url().endsWith('/app.html')), 15_000, 'the app tab');
    await page.evaluate(async () => {
      const open = indexedDB.open('bulk', 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore('items');
        open.result.createObjectStore('meta');
      };
      const db = await new Promise<IDBDatabase>((resolve) => (open.onsuccess = () => resolve(open.result)));
      const tx = db.transaction(['items', 'meta'], 'readwrite');
      for (let i = 0; i < 300; i++) tx.objectStore('items').put({ n: i, text: 'x'.repeat(2000) }, `item-${String(i).padStart(3, '0')}`);
      tx.objectStore('meta').put({ owner: 'alice' }, 'profile');
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
    });
    expected = await pageContents(page);
    await eventually(async () => JSON.stringify(await held()) === JSON.stringify(expected), 20_000, 'the companion holding the database');
    const wholeBefore = wholes(first!);
    expect(wholeBefore).toBeGreaterThan(0);

    // Three rounds of small changes: each is read in full by the content script and sent as what changed.
    await write(page, [['items', 'item-150', { n: 150, text: 'changed' }], ['meta', 'profile', { owner: 'alice', plan: 'pro' }]]);
    await write(page, [['items', 'item-000'], ['items', 'item-299'], ['items', 'item-000a', { n: -1 }], ['items', 'item-999', { n: 999 }]]);
    await write(page, [['meta', 'profile'], ['meta', 'settings', { theme: 'dark' }]]);
    expected = await pageContents(page);
    expect(expected.items).toHaveLength(300);
    await eventually(async () => JSON.stringify(await held()) === JSON.stringify(expected), 30_000, 'the companion holding every change');
    expect(deltas(first!)).toBeGreaterThan(0);
    expect(wholes(first!)).toBe(wholeBefore);
    await b.close().catch(() => {});
  }, 90_000);

  it('a second tab of the origin writing in turn sends deltas too, and the companion holds exactly the database', async () => {
    const b = await chromium.connectOverCDP(first!.cdp);
    const tabs = [b.contexts()[0].pages().find((p) => p.url().endsWith('/app.html'))!, await b.contexts()[0].newPage()];
    await tabs[1].goto(`${site.origin}/app.html`);
    const wholeBefore = wholes(first!);
    const deltasBefore = deltas(first!);
    // Each write is held before the other tab writes: four reports, by whichever tab noticed first.
    for (let round = 0; round < 4; round++) {
      await write(tabs[round % 2], [['items', `item-${String(round * 10).padStart(3, '0')}`, { n: round, by: round % 2 }]]);
      expected = await pageContents(tabs[0]);
      await eventually(async () => JSON.stringify(await held()) === JSON.stringify(expected), 30_000, `the companion holding write ${round + 1}`);
    }
    await tabs[0].bringToFront();
    expect(deltas(first!)).toBeGreaterThanOrEqual(deltasBefore + 4);
    expect(wholes(first!)).toBe(wholeBefore);
    await b.close().catch(() => {});
  }, 90_000);

  it('SIGKILL + resume: the database is back as the companion held it', async () => {
    expect(await crashForeground(first!, dataDir)).toBe('SIGKILL');
    first = undefined;
    resumed = await startForeground(['resume', sessionId, '--data-dir', dataDir], env);
    browser = await chromium.connectOverCDP(resumed.cdp);
    const page = await eventually(() => browser!.contexts()[0].pages().find((p) => p.url().endsWith('/app.html')), 15_000, 'a resumed app tab');
    expect(await pageContents(page)).toEqual(expected);
  }, 90_000);

  it('after the resume the origin is not sent back whole: the extension was told the companion holds it, and each tab\'s next write is a delta', async () => {
    const pages = browser!.contexts()[0].pages().filter((p) => p.url().endsWith('/app.html'));
    expect(pages).toHaveLength(2);
    for (const [i, page] of pages.entries()) {
      await write(page, [['items', `item-${100 + i}`, { n: 100 + i, after: 'resume' }]]);
      expected = await pageContents(pages[0]);
      await eventually(async () => JSON.stringify(await held()) === JSON.stringify(expected), 30_000, `the companion holding tab ${i + 1}'s write made after the resume`);
    }
    expect(deltas(resumed!)).toBeGreaterThanOrEqual(2);
    expect(wholes(resumed!)).toBe(0);
  }, 60_000);
});
