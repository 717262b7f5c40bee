/**
 * The content script's IndexedDB reader (extension/content/indexeddb-read.ts), bundled as it is and
 * run in a real Chromium page: a keys-only read of a big store after inserts and deletes gives the
 * same fingerprint as a full read, and its delta turns the previous records into the full read's;
 * a value changed in place is missed by a keys-only read (that is what the owed full read is for)
 * and found by the full one. (That the restore's fingerprint of what it writes equals this reader's
 * is checked end to end: test/e2e/indexeddb.test.ts, no whole report after a resume.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findChromium } from '../../companion/browser/find-chromium.js';
import type { IndexedDBRecord } from '../../shared/indexeddb.js';

const ENTRY = `
import { readOriginIndexedDB, changesSince } from ${JSON.stringify(fileURLToPath(new URL('../../extension/content/indexeddb-read.ts', import.meta.url)))};
import { applyStoreChange } from ${JSON.stringify(fileURLToPath(new URL('../../shared/indexeddb-delta.ts', import.meta.url)))};
import { advanceFingerprint, fingerprintHash } from ${JSON.stringify(fileURLToPath(new URL('../../shared/indexeddb-fingerprint.ts', import.meta.url)))};
let last;
// The service worker's copy: set from a whole read, advanced by each delta as the background does.
let held;
const summary = (read) => ({ hash: read.hash, partial: read.partial, stores: Object.fromEntries([...read.fingerprint.stores].map(([id, s]) => [id, s.keys.length])) });
globalThis.probe = {
  async full() {
    last = await readOriginIndexedDB(indexedDB, 1e9);
    held = last.fingerprint;
    return { ...summary(last), ownHash: fingerprintHash(last.fingerprint), records: last.databases[0].stores.map((s) => s.records) };
  },
  async fullAsDelta() {
    const next = await readOriginIndexedDB(indexedDB, 1e9);
    const c = changesSince(held, next);
    held = c && advanceFingerprint(held, c.stores, c.inserted, next.hash);
    last = next;
    const stores = (fp) => JSON.stringify([...fp.stores]);
    return { changed: c ? c.stores.length : -1, heldEqualsRead: held !== null && stores(held) === stores(next.fingerprint), heldHash: held && fingerprintHash(held), hash: next.hash };
  },
  async keysOnly(store) {
    const prev = last;
    const next = await readOriginIndexedDB(indexedDB, 1e9, { prev: prev.fingerprint, keysOnly: new Set(['db\\u0000' + store]) });
    const changes = changesSince(prev.fingerprint, next)?.stores ?? [];
    const applied = prev.databases[0].stores.map((s) => { const c = changes.find((x) => x.store === s.name); return c ? applyStoreChange(s.records, c) : s.records; });
    last = { ...next, databases: [{ ...next.databases[0], stores: next.databases[0].stores.map((s, i) => ({ ...s, records: applied[i] })) }] };
    return { ...summary(next), applied, sent: changes.flatMap((c) => c.splices.flatMap((s) => s.insert)).length };
  },
};
`;

type Summary = { hash: string; partial: boolean; stores: Record<string, number> };

describe('IndexedDB reader in a real page', () => {
  let browser: Browser;
  let page: Page;
  const write = (ops: Array<[string, string | number, unknown?]>) =>
    page.evaluate(async (list) => {
      const db = await new Promise<IDBDatabase>((resolve) => (indexedDB.open('db').onsuccess = (e) => resolve((e.target as IDBOpenDBRequest).result)));
      const tx = db.transaction(['big', 'small'], 'readwrite');
      for (const [store, key, value] of list) {
        if (value === undefined) tx.objectStore(store).delete(key);
        else if (store === 'small') tx.objectStore(store).put(value);
        else tx.objectStore(store).put(value, key);
      }
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
    }, ops);
  const full = () => page.evaluate(() => (globalThis as unknown as { probe: { full(): Promise<Summary & { ownHash: string | null; records: IndexedDBRecord[][] }> } }).probe.full());
  const fullAsDelta = () =>
    page.evaluate(() =>
      (globalThis as unknown as { probe: { fullAsDelta(): Promise<{ changed: number; heldEqualsRead: boolean; heldHash: string | null; hash: string }> } }).probe.fullAsDelta(),
    );
  const keysOnly = (store: string) =>
    page.evaluate((s) => (globalThis as unknown as { probe: { keysOnly(s: string): Promise<Summary & { applied: IndexedDBRecord[][]; sent: number }> } }).probe.keysOnly(s), store);

  beforeAll(async () => {
    const out = await build({ input: 'restory-reader-entry', write: false, output: { format: 'iife' }, plugins: [{ name: 'entry', resolveId: (id) => (id === 'restory-reader-entry' ? id : null), load: (id) => (id === 'restory-reader-entry' ? ENTRY : null) }] });
    browser = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
    page = await browser.newPage();
    await page.route('**/*', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>reader</title>' }));
    await page.goto('http://reader.test/');
    await page.addScriptTag({ content: out.output[0].code });
    await page.evaluate(async () => {
      const open = indexedDB.open('db', 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore('big');
        open.result.createObjectStore('small', { keyPath: ['a', 'b'] });
      };
      const db = await new Promise<IDBDatabase>((resolve) => (open.onsuccess = () => resolve(open.result)));
      const tx = db.transaction(['big', 'small'], 'readwrite');
      for (let i = 0; i < 200; i++) tx.objectStore('big').put({ i, at: new Date(i), text: 'x'.repeat(100) }, i * 10);
      tx.objectStore('small').put({ a: 1, b: 'x', v: new Map([[1, 2]]) });
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('keys-only after inserts and deletes: the same fingerprint as a full read, and its delta gives the full read\'s records', async () => {
    await full();
    await write([['big', 5, { i: 'new', blob: new Uint8Array([1, 2]) }], ['big', 3000, { i: 'last' }], ['big', 100], ['big', 1990]]);
    const partial = await keysOnly('big');
    expect(partial.partial).toBe(true);
    expect(partial.sent).toBe(2);
    const whole = await full();
    expect(whole.partial).toBe(false);
    expect(partial.hash).toBe(whole.hash);
    expect(partial.stores).toEqual(whole.stores);
    expect(partial.applied).toEqual(whole.records);
  });

  it('the background\'s copy of the fingerprint, advanced by each delta\'s splices, equals the next read\'s and gives its hash', async () => {
    const start = await full();
    // A fingerprint gives back the hash of its read: the check a document makes before using the copy.
    expect(start.ownHash).toBe(start.hash);
    const rounds: Array<Array<[string, string | number, unknown?]>> = [
      [['big', 0, { i: 'updated' }], ['big', 15, { i: 'inserted between' }], ['small', 0, { a: 2, b: 'y' }]],
      [['big', 10], ['big', 20], ['big', 30], ['big', -5, { i: 'first' }], ['big', 99999, { i: 'last' }]],
      [['small', 0, { a: 1, b: 'x', v: 'changed in place' }], ['big', 15], ['big', 16, { i: 'after a delete' }]],
    ];
    for (const ops of rounds) {
      await write(ops);
      const r = await fullAsDelta();
      expect(r.changed).toBeGreaterThan(0);
      expect(r.heldEqualsRead).toBe(true);
      expect(r.heldHash).toBe(r.hash);
    }
  });

  it('a value changed in place in a keys-only store is missed by the keys-only read and found by the full one', async () => {
    const before = await full();
    await write([['big', 50, { i: 'changed in place' }]]);
    const partial = await keysOnly('big');
    expect(partial.hash).toBe(before.hash);
    expect(partial.sent).toBe(0);
    const whole = await full();
    expect(whole.hash).not.toBe(before.hash);
  });

  it('a store read in full beside a keys-only one: its in-place change is found', async () => {
    const before = await full();
    await write([['small', 0, { a: 1, b: 'x', v: new Map([[1, 3]]) }]]);
    const partial = await keysOnly('big');
    expect(partial.hash).not.toBe(before.hash);
    expect(partial.sent).toBe(1);
    expect(partial.applied).toEqual((await full()).records);
  });
});
