/**
 * What a read of an origin's IndexedDB remembers without its records (keys, record hashes and
 * lengths per store, the databases' shape), and the service worker's copy of it for what the
 * companion holds.
 *
 * Why the copy: a delta (shared/indexeddb-delta.ts) is computed against a base fingerprint, and a
 * document's own last read is a base only while nobody else reported since. With two tabs of an
 * origin writing in turn, or one tab noticing the other's write first, the other document's next
 * change went whole (50 MB at a time for a big origin). The service worker keeps the fingerprint of
 * what the companion holds: set from every whole report, advanced by every accepted delta with the
 * very splices the companion applies (applySplices, so the two stay in step by construction), and
 * handed to a document that has no base of its own. The document checks it against its hash
 * (`fingerprintHash`) before diffing against it; the companion still refuses a delta on top of
 * anything but what it holds.
 *
 * Content-script code: no zod here (the background validates the wire form).
 */
import type { IndexedDBStoreChange } from './indexeddb.js';
import { applySplices, databaseShapeText, digestText, type StoreFingerprint, type StoreShape } from './indexeddb-delta.js';
import { DigestSum, itemHash } from './storage-digest.js';

/** How a fingerprint names a store (its key in `ReadFingerprint.stores`, and in ReadOptions.keysOnly). */
export function storeId(database: string, store: string): string {
  return `${database}\u0000${store}`;
}

/** A store's fingerprint as a read keeps it: with each record's JSON length, which the cap counts. */
export interface StoreRead extends StoreFingerprint {
  lengths: number[];
}

/** A read without its records: enough to tell what the next read changed. */
export interface ReadFingerprint {
  hash: string;
  /** Databases, versions, stores and indexes, without records (JSON of DatabaseShape[]). */
  shape: string;
  /** The records were left out (over the cap): a change cannot be told record by record. */
  overCap: boolean;
  /** Per storeId, in key order. */
  stores: Map<string, StoreRead>;
}

/** A database as `ReadFingerprint.shape` lists it. */
export interface DatabaseShape {
  name: string;
  version: number;
  stores: StoreShape[];
}

/** A ReadFingerprint as extension messaging carries it (JSON: no Map). */
export interface FingerprintWire {
  hash: string;
  shape: string;
  overCap: boolean;
  stores: Array<[string, StoreRead]>;
}

export function fingerprintToWire(fp: ReadFingerprint): FingerprintWire {
  return { hash: fp.hash, shape: fp.shape, overCap: fp.overCap, stores: [...fp.stores] };
}

export function fingerprintFromWire(wire: FingerprintWire): ReadFingerprint {
  return { hash: wire.hash, shape: wire.shape, overCap: wire.overCap, stores: new Map(wire.stores) };
}

/**
 * The origin hash a read with this fingerprint had (readOriginIndexedDB's digest, recomputed from
 * the record hashes and the shape with each store's count); null for one over the cap, whose records
 * it does not list. A copy that lost or changed an entry no longer gives its own hash.
 */
export function fingerprintHash(fp: ReadFingerprint): string | null {
  if (fp.overCap) return null;
  const digest = new DigestSum();
  let listed = 0;
  for (const db of JSON.parse(fp.shape) as DatabaseShape[]) {
    const counts = db.stores.map((s) => fp.stores.get(storeId(db.name, s.name))?.keys.length ?? 0);
    digest.add(itemHash(db.name, databaseShapeText(db.name, db.version, db.stores, counts)));
    listed += db.stores.length;
  }
  if (listed !== fp.stores.size) return null;
  for (const store of fp.stores.values()) {
    if (store.hashes.length !== store.keys.length || store.lengths.length !== store.keys.length) return null;
    for (const h of store.hashes) digest.add(h);
  }
  return digestText(digest);
}

/**
 * `fp` after `changes` (a delta's), whose inserted records have the fingerprints `inserted` (one per
 * change, its splices' inserts in order): the fingerprint of the read the delta came from, `hash`.
 * Null when they do not fit (the copy is then dropped and the next baseless document sends whole).
 */
export function advanceFingerprint(fp: ReadFingerprint, changes: readonly IndexedDBStoreChange[], inserted: readonly StoreRead[], hash: string): ReadFingerprint | null {
  if (fp.overCap || inserted.length !== changes.length) return null;
  const stores = new Map(fp.stores);
  for (let c = 0; c < changes.length; c++) {
    const change = changes[c];
    const id = storeId(change.database, change.store);
    const old = stores.get(id);
    const ins = inserted[c];
    if (!old) return null;
    type Entry = [string, number, number];
    const entries = old.keys.map((k, i): Entry => [k, old.hashes[i], old.lengths[i]]);
    let next = 0;
    const splices = change.splices.map((s) => {
      const insert = s.insert.map((): Entry => [ins.keys[next], ins.hashes[next], ins.lengths[next++]]);
      return { at: s.at, remove: s.remove, insert };
    });
    if (next !== ins.keys.length || ins.hashes.length !== next || ins.lengths.length !== next) return null;
    const applied = applySplices(entries, { before: change.before, after: change.after, splices });
    if (!applied) return null;
    stores.set(id, { keys: applied.map((e) => e[0]), hashes: applied.map((e) => e[1]), lengths: applied.map((e) => e[2]) });
  }
  return { hash, shape: fp.shape, overCap: false, stores };
}
