/**
 * IndexedDB deltas (shared/indexeddb-delta.ts) and how the companion folds them
 * (LiveState, storage-limit.ts): a diff applied to the old records gives the new ones exactly, for
 * inserts, updates and deletes anywhere; a delta that does not fit what is held changes nothing and
 * asks for a resync; the storage total stays equal to a recount without serialising the origin.
 */
import { describe, expect, it } from 'vitest';
import { LiveState } from '../../companion/session-state/live-state.js';
import { fitToLimit } from '../../companion/session-state/storage-limit.js';
import type { CaptureEvent } from '../../shared/capture-events.js';
import { applyStoreChange, diffStore, type StoreFingerprint } from '../../shared/indexeddb-delta.js';
import type { IndexedDBRecord, IndexedDBStoreChange } from '../../shared/indexeddb.js';

/** Records keyed k<n> holding `v`; the fingerprint hashes the value like the content script hashes a record's JSON. */
function store(entries: Array<[number, string]>): { fp: StoreFingerprint; records: IndexedDBRecord[] } {
  const sorted = [...entries].sort((a, b) => a[0] - b[0]);
  const records = sorted.map(([k, v]) => ({ key: `k${k}`, value: v }));
  return { fp: { keys: sorted.map(([k]) => `n${k}`), hashes: sorted.map(([k, v]) => hashOf(`${k}:${v}`)) }, records };
}
function hashOf(text: string): number {
  let h = 7;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 2 ** 31;
  return h;
}
const change = (before: ReturnType<typeof store>, after: ReturnType<typeof store>): IndexedDBStoreChange => ({
  database: 'db',
  store: 's',
  before: before.records.length,
  after: after.records.length,
  splices: diffStore(before.fp, after.fp, after.records),
});

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('diffStore + applyStoreChange', () => {
  it('nothing changed: no splice', () => {
    const a = store([[1, 'a'], [2, 'b']]);
    expect(diffStore(a.fp, a.fp, a.records)).toEqual([]);
  });

  it('one update in the middle of many records travels alone', () => {
    const old = store(Array.from({ length: 1000 }, (_, i) => [i, 'v'] as [number, string]));
    const next = store(Array.from({ length: 1000 }, (_, i) => [i, i === 500 ? 'changed' : 'v'] as [number, string]));
    const c = change(old, next);
    expect(c.splices).toEqual([{ at: 500, remove: 1, insert: [{ key: 'k500', value: 'changed' }] }]);
    expect(applyStoreChange(old.records, c)).toEqual(next.records);
  });

  it('an insert before every other record, a delete at the end and an update: three small splices', () => {
    const old = store([[5, 'a'], [6, 'b'], [7, 'c'], [8, 'd']]);
    const next = store([[1, 'new'], [5, 'a'], [6, 'B'], [7, 'c']]);
    const c = change(old, next);
    expect(c.splices.flatMap((s) => s.insert)).toEqual([{ key: 'k1', value: 'new' }, { key: 'k6', value: 'B' }]);
    expect(applyStoreChange(old.records, c)).toEqual(next.records);
  });

  it('random inserts, updates and deletes: applying the diff gives the new records (500 cases)', () => {
    const rnd = random(42);
    for (let n = 0; n < 500; n++) {
      const entries = new Map<number, string>();
      for (let i = 0; i < Math.floor(rnd() * 40); i++) entries.set(Math.floor(rnd() * 60), String(Math.floor(rnd() * 3)));
      const old = store([...entries]);
      for (let i = 0; i < Math.floor(rnd() * 10); i++) {
        const k = Math.floor(rnd() * 60);
        const op = rnd();
        if (op < 0.4) entries.delete(k);
        else entries.set(k, String(Math.floor(rnd() * 3)));
      }
      const next = store([...entries]);
      const c = change(old, next);
      expect(applyStoreChange(old.records, c)).toEqual(next.records);
      // Never more sent than what differs.
      const changed = next.records.filter((r, i) => {
        const j = old.fp.keys.indexOf(next.fp.keys[i]);
        return j < 0 || old.fp.hashes[j] !== next.fp.hashes[i];
      });
      expect(c.splices.flatMap((s) => s.insert)).toEqual(changed);
    }
  });

  it('refuses a change made for other records: another count, splices out of bounds or out of order', () => {
    const old = store([[1, 'a'], [2, 'b'], [3, 'c']]);
    const base = { database: 'db', store: 's', before: 3, after: 3 };
    expect(applyStoreChange(old.records.slice(1), { ...base, splices: [{ at: 0, remove: 1, insert: [{ value: 1 }] }] })).toBeNull();
    expect(applyStoreChange(old.records, { ...base, splices: [{ at: 3, remove: 1, insert: [{ value: 1 }] }] })).toBeNull();
    expect(applyStoreChange(old.records, { ...base, splices: [{ at: 2, remove: 1, insert: [{ value: 1 }] }, { at: 0, remove: 1, insert: [{ value: 2 }] }] })).toBeNull();
    expect(applyStoreChange(old.records, { ...base, after: 4, splices: [{ at: 0, remove: 1, insert: [{ value: 1 }] }] })).toBeNull();
  });
});

const ORIGIN = 'https://a.test';
const full = (records: IndexedDBRecord[], hash = 'h0'): CaptureEvent => ({
  kind: 'indexeddb',
  tabId: 1,
  origin: ORIGIN,
  databases: [{ name: 'db', version: 1, stores: [{ name: 's', autoIncrement: false, indexes: [], records }, { name: 'other', autoIncrement: false, indexes: [], records: [{ key: 'x', value: 1 }] }] }],
  warnings: [],
  hash,
});
const delta = (c: IndexedDBStoreChange, base = 'h0', hash = 'h1'): CaptureEvent => ({ kind: 'indexeddb.delta', tabId: 1, origin: ORIGIN, base, hash, stores: [c], warnings: [] });
const held = (live: LiveState) => live.storedIndexedDB(ORIGIN)!;

describe('LiveState folds IndexedDB deltas', () => {
  const old = store(Array.from({ length: 50 }, (_, i) => [i, 'x'.repeat(i)] as [number, string]));
  const next = store([...Array.from({ length: 50 }, (_, i) => [i, i === 10 ? 'changed' : 'x'.repeat(i)] as [number, string]).filter(([k]) => k !== 20), [99, 'added']]);

  it('applies it, shares the stores it did not change, leaves the old arrays as they were, and keeps the byte count exact', () => {
    const live = new LiveState(0);
    live.apply(full(old.records), 1);
    const before = held(live);
    live.apply(delta(change(old, next)), 2);
    expect(live.takeResync()).toBe(false);
    expect(held(live)[0].stores[0].records).toEqual(next.records);
    expect(held(live)[0].stores[1]).toBe(before[0].stores[1]);
    expect(before[0].stores[0].records).toEqual(old.records);
    expect(live.storageBytes).toBe(live.countStorageBytes());
    expect(live.storageBytes).toBe(2 * JSON.stringify(held(live)).length);
  });

  it('the next delta builds on the hash the last one left', () => {
    const live = new LiveState(0);
    live.apply(full(old.records), 1);
    live.apply(delta(change(old, next), 'h0', 'h1'), 2);
    live.apply(delta(change(next, old), 'h1', 'h2'), 3);
    expect(live.takeResync()).toBe(false);
    expect(held(live)[0].stores[0].records).toEqual(old.records);
  });

  it.each([
    ['on top of another read (hash)', (c: IndexedDBStoreChange) => delta(c, 'other')],
    ['for another record count', (c: IndexedDBStoreChange) => delta({ ...c, before: c.before + 1 })],
    ['for a store that is not held', (c: IndexedDBStoreChange) => delta({ ...c, store: 'gone' })],
  ])('a delta %s changes nothing and asks for a resync', (_what, make) => {
    const live = new LiveState(0);
    live.apply(full(old.records), 1);
    const before = held(live);
    live.apply(make(change(old, next)), 2);
    expect(held(live)).toBe(before);
    expect(live.takeResync()).toBe(true);
    expect(live.takeResync()).toBe(false);
  });

  it('a delta for an origin that is not held asks for a resync', () => {
    const live = new LiveState(0);
    live.apply(delta(change(old, next)), 1);
    expect(live.storedIndexedDB(ORIGIN)).toBeUndefined();
    expect(live.takeResync()).toBe(true);
  });

  it('past the storage limit the origin keeps nothing, as for a whole read, and later deltas keep it so without a resync', () => {
    const live = new LiveState(0);
    live.apply(full(old.records), 1);
    const big = store([...old.records.map((_, i) => [i, 'x'.repeat(i)] as [number, string]), [100, 'y'.repeat(5000)]]);
    const fitted = fitToLimit(live, delta(change(old, big)), live.storageBytes + 1000);
    expect(fitted.cut).toBe(true);
    expect(fitted.event).toMatchObject({ kind: 'indexeddb', databases: [], hash: 'h1', warnings: [expect.stringContaining('storage limit')] });
    live.apply(fitted.event!, 2);
    live.apply(delta(change(big, old), 'h1', 'h2'), 3);
    expect(held(live)).toEqual([]);
    expect(live.takeResync()).toBe(false);
    expect(live.storageBytes).toBe(live.countStorageBytes());
  });

  it('an origin\'s partitioned IndexedDB (under a top origin) and its own are held apart, and a delta names which', () => {
    const live = new LiveState(0);
    live.apply(full(old.records), 1);
    live.apply({ ...full(old.records.slice(0, 5), 'p0'), topOrigin: 'https://top.test' } as CaptureEvent, 2);
    live.apply({ ...delta(change(store(old.records.slice(0, 5).map((_, i) => [i, 'x'.repeat(i)] as [number, string])), store([[0, '']])), 'p0', 'p1'), topOrigin: 'https://top.test' } as CaptureEvent, 3);
    expect(live.takeResync()).toBe(false);
    expect(held(live)[0].stores[0].records).toEqual(old.records);
    expect(live.storedIndexedDB(ORIGIN, 'https://top.test')![0].stores[0].records).toEqual([{ key: 'k0', value: '' }]);
    const origins = live.toState().origins.filter((o) => o.origin === ORIGIN);
    expect(origins.map((o) => o.topOrigin)).toEqual([undefined, 'https://top.test']);
    expect(live.storageBytes).toBe(live.countStorageBytes());
  });

  it('a shrinking delta passes the limit check untouched', () => {
    const live = new LiveState(0);
    live.apply(full(old.records), 1);
    const smaller = store(Array.from({ length: 10 }, (_, i) => [i, 'x'.repeat(i)] as [number, string]));
    const event = delta(change(old, smaller));
    expect(fitToLimit(live, event, 1)).toEqual({ event, cut: false });
  });
});
