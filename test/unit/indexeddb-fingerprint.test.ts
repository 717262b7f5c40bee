/**
 * The service worker's copy of what the companion holds (shared/indexeddb-fingerprint.ts,
 * extension/background/indexeddb-capture.ts): advanced by each delta's splices it equals the
 * fingerprint of the read the delta came from; a copy that lost or changed an entry no longer gives
 * its hash; the ledger hands it to a document with no base of its own, learns it from whole reports
 * and from the first read after a resume, and drops it when a delta's inserts do not fit.
 * (That the copy equals a real read's, in Chromium: test/e2e/indexeddb-read.test.ts.)
 */
import { describe, expect, it, vi } from 'vitest';
import type { CaptureEvent } from '../../shared/capture-events.js';
import { diffStore, digestText, databaseShapeText } from '../../shared/indexeddb-delta.js';
import { advanceFingerprint, fingerprintFromWire, fingerprintHash, fingerprintToWire, type ReadFingerprint, type StoreRead } from '../../shared/indexeddb-fingerprint.js';
import type { IndexedDBStoreChange } from '../../shared/indexeddb.js';
import { asContentMessage, type ContentMessage, type IndexedDBBaseReply, type IndexedDBDeltaReply, type IndexedDBProbeReply } from '../../shared/messages/content.js';
import { DigestSum, itemHash } from '../../shared/storage-digest.js';

// The extension's modules read chrome.* as they load (debug.ts): stub it before they are imported.
vi.hoisted(() => {
  const area = () => ({ get: async () => ({}), set: async () => {}, remove: async () => {} });
  (globalThis as Record<string, unknown>).chrome = { storage: { local: area(), session: area(), onChanged: { addListener: () => {} } } };
});
const { IndexedDBLedger } = await import('../../extension/background/indexeddb-capture.js');

const SHAPE = [{ name: 'db', version: 1, stores: [{ name: 's', autoIncrement: false, indexes: [] }] }];

/** A one-store origin's fingerprint from [key, value] entries, hashed like indexeddb-read.ts does. */
function fingerprint(entries: Array<[number, string]>): ReadFingerprint {
  const sorted = [...entries].sort((a, b) => a[0] - b[0]);
  const store: StoreRead = {
    keys: sorted.map(([k]) => `n${k}`),
    hashes: sorted.map(([k, v]) => itemHash(`db\u0000s\u0000n${k}`, v)),
    lengths: sorted.map(([, v]) => v.length),
  };
  const digest = new DigestSum();
  for (const h of store.hashes) digest.add(h);
  digest.add(itemHash('db', databaseShapeText('db', 1, SHAPE[0].stores, [store.keys.length])));
  return { hash: digestText(digest), shape: JSON.stringify(SHAPE), overCap: false, stores: new Map([['db\u0000s', store]]) };
}

/** The delta from `a` to `b` as a document sends it: changes (records are stand-ins) and the inserted fingerprints. */
function delta(a: ReadFingerprint, b: ReadFingerprint): { stores: IndexedDBStoreChange[]; inserted: StoreRead[] } {
  const before = a.stores.get('db\u0000s')!;
  const after = b.stores.get('db\u0000s')!;
  const splices = diffStore(before, after, after.keys.map((_, i) => i));
  if (splices.length === 0) return { stores: [], inserted: [] };
  const at = splices.flatMap((s) => s.insert);
  return {
    stores: [{ database: 'db', store: 's', before: before.keys.length, after: after.keys.length, splices: splices.map((s) => ({ ...s, insert: s.insert.map((i) => ({ value: after.keys[i] })) })) }],
    inserted: [{ keys: at.map((i) => after.keys[i]), hashes: at.map((i) => after.hashes[i]), lengths: at.map((i) => after.lengths[i]) }],
  };
}

function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('advanceFingerprint + fingerprintHash', () => {
  it('random inserts, updates and deletes: the advanced copy equals the new read and gives its hash (300 cases)', () => {
    const rnd = random(7);
    for (let n = 0; n < 300; n++) {
      const entries = new Map<number, string>();
      for (let i = 0; i < Math.floor(rnd() * 40); i++) entries.set(Math.floor(rnd() * 60), String(Math.floor(rnd() * 3)));
      const old = fingerprint([...entries]);
      expect(fingerprintHash(old)).toBe(old.hash);
      for (let i = 0; i < Math.floor(rnd() * 10); i++) {
        const k = Math.floor(rnd() * 60);
        if (rnd() < 0.4) entries.delete(k);
        else entries.set(k, String(Math.floor(rnd() * 3)));
      }
      const next = fingerprint([...entries]);
      const d = delta(old, next);
      const advanced = advanceFingerprint(old, d.stores, d.inserted, next.hash)!;
      expect(advanced.stores).toEqual(next.stores);
      expect(fingerprintHash(advanced)).toBe(next.hash);
    }
  });

  it('a copy with an entry lost or a hash changed no longer gives its hash; one over the cap gives none', () => {
    const fp = fingerprint([[1, 'a'], [2, 'b'], [3, 'c']]);
    const s = fp.stores.get('db\u0000s')!;
    const lost: ReadFingerprint = { ...fp, stores: new Map([['db\u0000s', { keys: s.keys.slice(1), hashes: s.hashes.slice(1), lengths: s.lengths.slice(1) }]]) };
    const changed: ReadFingerprint = { ...fp, stores: new Map([['db\u0000s', { ...s, hashes: [s.hashes[0] + 1, ...s.hashes.slice(1)] }]]) };
    expect(fingerprintHash(lost)).not.toBe(fp.hash);
    expect(fingerprintHash(changed)).not.toBe(fp.hash);
    expect(fingerprintHash({ ...fp, overCap: true })).toBeNull();
  });

  it('inserts that do not fit the splices: no copy rather than a wrong one', () => {
    const old = fingerprint([[1, 'a'], [2, 'b']]);
    const next = fingerprint([[1, 'a'], [2, 'B'], [3, 'c']]);
    const d = delta(old, next);
    const short = [{ ...d.inserted[0], keys: d.inserted[0].keys.slice(1), hashes: d.inserted[0].hashes.slice(1), lengths: d.inserted[0].lengths.slice(1) }];
    expect(advanceFingerprint(old, d.stores, short, next.hash)).toBeNull();
    expect(advanceFingerprint(old, d.stores, [], next.hash)).toBeNull();
    expect(advanceFingerprint(old, [{ ...d.stores[0], before: 5 }], d.inserted, next.hash)).toBeNull();
  });

  it('the wire form carries it through JSON', () => {
    const fp = fingerprint([[1, 'a'], [2, 'b']]);
    expect(fingerprintFromWire(JSON.parse(JSON.stringify(fingerprintToWire(fp))))).toEqual(fp);
  });
});

describe('IndexedDBLedger: the fingerprint of what the companion holds', () => {
  const scope = { tabId: 1, origin: 'http://a.test' };
  const db = [{ name: 'db', version: 1, stores: [{ name: 's', autoIncrement: false, indexes: [], records: [] }] }];
  function ledger() {
    const l = new IndexedDBLedger();
    const events: CaptureEvent[] = [];
    const send = (m: ContentMessage, tabId = 1) => {
      let answer: IndexedDBProbeReply | IndexedDBDeltaReply | IndexedDBBaseReply | undefined;
      l.handle(m as Parameters<typeof l.handle>[0], { ...scope, tabId }, (e) => events.push(e), (r) => (answer = r));
      return answer;
    };
    return { l, events, send };
  }
  const v1 = fingerprint([[1, 'a'], [2, 'b']]);
  const v2 = fingerprint([[1, 'a'], [2, 'B'], [3, 'c']]);
  const v3 = fingerprint([[2, 'B'], [3, 'c'], [4, 'd']]);

  it('a whole report gives it; a delta from any document advances it; a document without a base gets it; a stale delta learns what is held', () => {
    const { events, send } = ledger();
    send({ type: 'restory.idb.full', signal: 1, hash: v1.hash, databases: db, warnings: [], fingerprint: fingerprintToWire(v1) });
    expect(send({ type: 'restory.idb.probe', signal: 2 })).toEqual({ fresh: false, hash: v1.hash, fingerprinted: true });
    const d12 = delta(v1, v2);
    expect(send({ type: 'restory.idb.delta', signal: 2, base: v1.hash, hash: v2.hash, ...d12, warnings: [] })).toEqual({ accepted: true });
    // Another tab, whose own last read is v1: it diffs against the background's copy, which is v2.
    const base = send({ type: 'restory.idb.base' }, 2) as IndexedDBBaseReply;
    const copy = fingerprintFromWire(base.fingerprint!);
    expect(copy.hash).toBe(v2.hash);
    expect(fingerprintHash(copy)).toBe(v2.hash);
    const d23 = delta(copy, v3);
    expect(send({ type: 'restory.idb.delta', signal: 3, base: copy.hash, hash: v3.hash, ...d23, warnings: [] }, 2)).toEqual({ accepted: true });
    expect(fingerprintFromWire((send({ type: 'restory.idb.base' }) as IndexedDBBaseReply).fingerprint!).stores).toEqual(v3.stores);
    // A document that read v2 too (both noticed one write) is told what is held now, to try again on it.
    expect(send({ type: 'restory.idb.delta', signal: 3, base: v1.hash, hash: v2.hash, ...d12, warnings: [] })).toEqual({ accepted: false, hash: v3.hash, fingerprinted: true });
    expect(events.map((e) => e.kind)).toEqual(['indexeddb', 'indexeddb.delta', 'indexeddb.delta']);
  });

  it('after a resume seed (hash only) the first read that finds it supplies the fingerprint', () => {
    const { l, send } = ledger();
    l.seed([{ origin: scope.origin, hash: v1.hash }]);
    expect(send({ type: 'restory.idb.probe', signal: 1 })).toMatchObject({ hash: v1.hash, fingerprinted: false });
    expect(send({ type: 'restory.idb.base' })).toEqual({});
    send({ type: 'restory.idb.same', signal: 1, hash: v1.hash, fingerprint: fingerprintToWire(v2) }); // not the held one: ignored
    expect(send({ type: 'restory.idb.probe', signal: 1 })).toMatchObject({ fresh: true, fingerprinted: false });
    send({ type: 'restory.idb.same', signal: 1, hash: v1.hash, fingerprint: fingerprintToWire(v1) });
    expect(send({ type: 'restory.idb.probe', signal: 1 })).toMatchObject({ fresh: true, fingerprinted: true });
  });

  it('a delta whose inserts do not fit is still accepted (the companion checks its own records) but the copy is dropped', () => {
    const { send } = ledger();
    send({ type: 'restory.idb.full', signal: 1, hash: v1.hash, databases: db, warnings: [], fingerprint: fingerprintToWire(v1) });
    const d12 = delta(v1, v2);
    expect(send({ type: 'restory.idb.delta', signal: 2, base: v1.hash, hash: v2.hash, stores: d12.stores, inserted: [{ keys: [], hashes: [], lengths: [] }], warnings: [] })).toEqual({ accepted: true });
    expect(send({ type: 'restory.idb.probe', signal: 3 })).toMatchObject({ hash: v2.hash, fingerprinted: false });
    expect(send({ type: 'restory.idb.base' })).toEqual({});
  });

  it('messages without the fingerprint fields are not content messages', () => {
    expect(asContentMessage({ type: 'restory.idb.full', signal: 1, hash: 'h', databases: [], warnings: [] })).toBeNull();
    expect(asContentMessage({ type: 'restory.idb.delta', signal: 1, base: 'a', hash: 'b', stores: [{}], inserted: [], warnings: [] })).toBeNull();
    expect(asContentMessage({ type: 'restory.idb.same', signal: 1, hash: 'h', fingerprint: { hash: 'h' } })).toBeNull();
    expect(asContentMessage({ type: 'restory.idb.base' })).toEqual({ type: 'restory.idb.base' });
  });
});
