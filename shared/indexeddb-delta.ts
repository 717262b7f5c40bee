/**
 * A change to one origin's IndexedDB as the records that changed, not the whole origin again.
 *
 * Why: an origin is read whole to find out what changed (nothing the page does is visible to the
 * isolated world but the usage the origin occupies), but sending it whole made every write to a
 * 50 MB origin cost 50 MB through the extension's messaging, the native host, the socket, the
 * companion's parse and its journal. A read is compared with the previous one record by record
 * (by primary key and a hash of the record's JSON) and only the difference travels.
 *
 * The difference is expressed by position, not by key: records come in key order from IndexedDB,
 * both reads are in that order, so "replace `remove` records at `at` by `insert`" is exact and the
 * companion can apply it without knowing how keys compare (or where a key path puts a key).
 * `before`/`after` are the store's record counts on each side, which the companion checks before
 * and after applying: a change that does not fit what it holds is refused, not applied approximately.
 * (The schemas are in shared/indexeddb.ts: this file runs in the content script, which has no zod.)
 */
import type { IndexedDBRecord, IndexedDBStoreChange } from './indexeddb.js';

/**
 * Text that tells IndexedDB primary keys apart (not their order: records come ordered). Keys are
 * numbers, strings, dates, binary or arrays of keys; a prefix per type keeps 1 and '1' apart.
 * Self-contained: the restore's setup page gets it as source text (companion/browser/restore).
 */
export function keyText(key: IDBValidKey): string {
  if (typeof key === 'string') return `s${key}`;
  if (typeof key === 'number') return `n${key}`;
  if (key instanceof Date) return `d${key.getTime()}`;
  if (Array.isArray(key)) return `a${JSON.stringify(key.map(keyText))}`;
  const bytes = ArrayBuffer.isView(key) ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength) : new Uint8Array(key);
  return `b${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** One store's records as a read saw them: primary keys (as comparable text) and record hashes, in key order. */
export interface StoreFingerprint {
  keys: string[];
  hashes: number[];
}

/**
 * The splices that turn `old` into `next` (whose records are `records`, in the same order): a record
 * whose key and hash both match is kept; everything else between kept records is removed and
 * replaced by the new records there. Both sides are in key order with unique keys, so kept records
 * appear in the same relative order in each. O(n) with one Map of the old keys. `records` may be
 * anything parallel to `next` (e.g. its positions), which the splices then insert.
 */
export function diffStore<T = IndexedDBRecord>(old: StoreFingerprint, next: StoreFingerprint, records: readonly T[]): Array<{ at: number; remove: number; insert: T[] }> {
  const oldAt = new Map<string, number>();
  old.keys.forEach((k, i) => oldAt.set(k, i));
  const splices: Array<{ at: number; remove: number; insert: T[] }> = [];
  let oldPos = 0;
  let insert: T[] = [];
  const cut = (until: number) => {
    if (until > oldPos || insert.length > 0) splices.push({ at: oldPos, remove: until - oldPos, insert });
    insert = [];
  };
  for (let i = 0; i < next.keys.length; i++) {
    const j = oldAt.get(next.keys[i]);
    if (j !== undefined && j >= oldPos && old.hashes[j] === next.hashes[i]) {
      cut(j);
      oldPos = j + 1;
    } else insert.push(records[i]);
  }
  cut(old.keys.length);
  return splices;
}

/**
 * `records` with `change` applied, as a new array (the old one may be shared with a snapshot being
 * written); null when the change does not fit them: another count, splices out of order or bounds.
 */
export function applyStoreChange(records: readonly IndexedDBRecord[], change: IndexedDBStoreChange): IndexedDBRecord[] | null {
  return applySplices(records, change);
}

/**
 * `items` with `splices` applied (what applyStoreChange does to records, for any parallel list: the
 * service worker applies the same splices to its copy of the fingerprint, shared/indexeddb-fingerprint.ts,
 * so both stay in step by construction).
 */
export function applySplices<T>(
  items: readonly T[],
  change: { before: number; after: number; splices: ReadonlyArray<{ at: number; remove: number; insert: readonly T[] }> },
): T[] | null {
  if (items.length !== change.before) return null;
  const out: T[] = [];
  let pos = 0;
  for (const s of change.splices) {
    if (s.at < pos || s.at + s.remove > items.length) return null;
    for (let i = pos; i < s.at; i++) out.push(items[i]);
    for (const r of s.insert) out.push(r);
    pos = s.at + s.remove;
  }
  for (let i = pos; i < items.length; i++) out.push(items[i]);
  return out.length === change.after ? out : null;
}

/** A store as the fingerprint of a database counts it: its shape, and how many records it has. */
export interface StoreShape {
  name: string;
  autoIncrement: boolean;
  keyPath?: string;
  keyPathArray?: string[];
  indexes: Array<{ name: string; keyPath?: string; keyPathArray?: string[]; multiEntry: boolean; unique: boolean }>;
}

/**
 * The text a database adds to its origin's fingerprint (beside its records'): name, version, and each
 * store's shape with its record count, built field by field so that the content script (from what it
 * read) and the setup page (from what the companion sends) produce the same text. Self-contained.
 */
export function databaseShapeText(name: string, version: number, stores: StoreShape[], counts: number[]): string {
  return JSON.stringify({
    name,
    version,
    stores: stores.map((s, i) => ({
      name: s.name,
      autoIncrement: s.autoIncrement,
      ...(s.keyPath !== undefined ? { keyPath: s.keyPath } : {}),
      ...(s.keyPathArray !== undefined ? { keyPathArray: s.keyPathArray } : {}),
      records: counts[i],
      indexes: s.indexes.map((x) => ({
        name: x.name,
        ...(x.keyPath !== undefined ? { keyPath: x.keyPath } : {}),
        ...(x.keyPathArray !== undefined ? { keyPathArray: x.keyPathArray } : {}),
        multiEntry: x.multiEntry,
        unique: x.unique,
      })),
    })),
  });
}

/** An origin's fingerprint as text, from its digest (`.cap` when its records were over the cap). */
export function digestText(d: { n: number; lo: number; hi: number }, overCap = false): string {
  return `${d.n}.${d.lo}.${d.hi}${overCap ? '.cap' : ''}`;
}
