/**
 * Reads every IndexedDB database of the document's origin into the form of shared/indexeddb.ts.
 *
 * Invisible to the page, as far as IndexedDB allows: databases are opened without a version (no
 * upgrade), read in one readonly transaction (which never blocks the page's readwrite ones for
 * long: two requests per store, getAllKeys + getAll, both in key order) and closed at once; a
 * `versionchange` from the page closes ours immediately so its upgrade is not held up. A database
 * deleted between `databases()` and our `open` would be created anew by that open: the upgrade it
 * triggers is aborted, so nothing is created.
 *
 * Values the tagged form cannot hold are left out of the dump and reported, per database and store,
 * with their type names. Past `capChars` of encoded JSON the origin's records are all left out (the
 * structure is kept) with a warning: half a database restored would be worse than none.
 *
 * Besides the records, a read keeps each store's primary keys and record hashes (and the origin's
 * shape without records), so that the next read can be sent as what changed (`changesSince`,
 * shared/indexeddb-delta.ts) instead of whole.
 */
import type { IndexedDBDatabase, IndexedDBRecord, IndexedDBStore, IndexedDBStoreChange } from '../../shared/indexeddb.js';
import { databaseShapeText, diffStore, digestText, keyText } from '../../shared/indexeddb-delta.js';
import { storeId, type DatabaseShape, type ReadFingerprint, type StoreRead } from '../../shared/indexeddb-fingerprint.js';
import { encodeIndexedDBValue, UnsupportedValue } from '../../shared/indexeddb-value.js';
import { DigestSum, itemHash } from '../../shared/storage-digest.js';

export interface OriginIndexedDB {
  databases: IndexedDBDatabase[];
  warnings: string[];
  /** Encoded JSON characters of the records read. */
  chars: number;
  /** Fingerprint of `databases` (count + sums of per-record hashes, storage-digest.ts). */
  hash: string;
  /** What the next read is compared with. */
  fingerprint: ReadFingerprint;
  /** Some stores were read by keys only (ReadOptions.keysOnly): send as a delta, never whole. */
  partial: boolean;
}

/** What changed since a read, as the delta carries it, with the fingerprints of the records it inserts. */
export interface ChangesSince {
  stores: IndexedDBStoreChange[];
  /** Per change: keys, hashes and lengths of its splices' inserted records, in order. */
  inserted: StoreRead[];
}

/**
 * What changed from `prev` to `next` (which still holds its records), store by store; null when it
 * cannot be said record by record (a database, store or index changed, or either was over the cap)
 * and `next` must be sent whole.
 */
export function changesSince(prev: ReadFingerprint, next: OriginIndexedDB): ChangesSince | null {
  const now = next.fingerprint;
  if (prev.overCap || now.overCap || prev.shape !== now.shape) return null;
  const changes: ChangesSince = { stores: [], inserted: [] };
  for (const db of next.databases) {
    for (const store of db.stores) {
      const id = storeId(db.name, store.name);
      const before = prev.stores.get(id);
      const after = now.stores.get(id);
      if (!before || !after) return null;
      // Positions first: they give both the records and their fingerprints.
      const splices = diffStore(before, after, after.keys.map((_, i) => i));
      if (splices.length === 0) continue;
      const positions = splices.flatMap((s) => s.insert);
      changes.stores.push({
        database: db.name,
        store: store.name,
        before: before.keys.length,
        after: after.keys.length,
        splices: splices.map((s) => ({ at: s.at, remove: s.remove, insert: s.insert.map((i) => store.records[i]) })),
      });
      changes.inserted.push({ keys: positions.map((i) => after.keys[i]), hashes: positions.map((i) => after.hashes[i]), lengths: positions.map((i) => after.lengths[i]) });
    }
  }
  return changes;
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

/** Open an existing database as it is, or null if it is gone. */
function openExisting(factory: IDBFactory, name: string): Promise<IDBDatabase | null> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name);
    let created = false;
    request.onupgradeneeded = () => {
      created = true;
      request.transaction?.abort();
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => (created ? resolve(null) : reject(request.error ?? new Error(`could not open ${name}`)));
    request.onblocked = () => resolve(null);
  });
}

function keyPathOf(keyPath: string | string[] | null): Pick<IndexedDBStore, 'keyPath' | 'keyPathArray'> {
  if (keyPath === null) return {};
  return Array.isArray(keyPath) ? { keyPathArray: [...keyPath] } : { keyPath };
}

/** What a read may take from the previous one instead of reading it again. */
export interface ReadOptions {
  /** The previous read of this document. */
  prev?: ReadFingerprint;
  /**
   * Stores (by storeId) read by their keys only: records whose key the previous read had keep
   * its hash and are not read again; only the values of new keys are. Such a read sees inserts and
   * deletes but not a value changed in place; it yields `partial` (the records of those stores are
   * only the new ones, at their positions), which can be sent as a delta but not whole.
   */
  keysOnly?: ReadonlySet<string>;
}

export async function readOriginIndexedDB(factory: IDBFactory, capChars: number, opts: ReadOptions = {}): Promise<OriginIndexedDB> {
  const infos = await factory.databases();
  const databases: IndexedDBDatabase[] = [];
  const warnings: string[] = [];
  const digest = new DigestSum();
  const fingerprints = new Map<string, StoreRead>();
  const shapes: DatabaseShape[] = [];
  let chars = 0;
  let overCap = false;
  let partial = false;
  for (const info of infos) {
    if (!info.name) continue;
    const db = await openExisting(factory, info.name);
    if (!db) continue;
    try {
      // Every request is made before the first await: a transaction with nothing pending commits.
      const names = [...db.objectStoreNames];
      const tx = names.length > 0 ? db.transaction(names, 'readonly') : null;
      const pending = names.map((storeName) => {
        const store = tx!.objectStore(storeName);
        const shape: IndexedDBStore = {
          name: storeName,
          autoIncrement: store.autoIncrement,
          ...keyPathOf(store.keyPath),
          records: [],
          indexes: [...store.indexNames].map((indexName) => {
            const index = store.index(indexName);
            return { name: index.name, ...keyPathOf(index.keyPath), multiEntry: index.multiEntry, unique: index.unique };
          }),
        };
        const id = storeId(db.name, storeName);
        const before = opts.keysOnly?.has(id) ? opts.prev?.stores.get(id) : undefined;
        const values = before ? Promise.resolve(null) : done(store.getAll());
        return { shape, id, before, withKeys: store.keyPath === null, read: Promise.all([done(store.getAllKeys()), values]) };
      });
      const stores: IndexedDBStore[] = [];
      for (const { shape, id, before, withKeys, read } of pending) {
        const [keys, all] = await read;
        const texts = keys.map(keyText);
        // Keys-only: the previous read's hash for a key it had; the values of the others, read now
        // (in a transaction of their own: one deleted meanwhile is simply not there).
        const kept = new Map<string, number>();
        let values: unknown[] | null = all;
        if (before) {
          partial = true;
          before.keys.forEach((k, i) => kept.set(k, i));
          const wanted = texts.flatMap((k, i) => (kept.has(k) ? [] : [i]));
          values = new Array<unknown>(keys.length);
          if (wanted.length > 0) {
            const store = db.transaction(shape.name, 'readonly').objectStore(shape.name);
            const got = await Promise.all(wanted.map((i) => done(store.get(keys[i]))));
            wanted.forEach((i, j) => (values![i] = got[j]));
          }
        }
        const fingerprint: StoreRead = { keys: [], hashes: [], lengths: [] };
        fingerprints.set(id, fingerprint);
        const unsupported = new Map<string, number>();
        for (let i = 0; i < keys.length && !overCap; i++) {
          const at = before ? kept.get(texts[i]) : undefined;
          if (before && at !== undefined) {
            chars += before.lengths[at];
            fingerprint.keys.push(texts[i]);
            fingerprint.hashes.push(before.hashes[at]);
            fingerprint.lengths.push(before.lengths[at]);
            digest.add(before.hashes[at]);
            continue;
          }
          if (before && values![i] === undefined) continue; // deleted since its key was read
          let record: IndexedDBRecord;
          try {
            record = {};
            if (withKeys) {
              const key = await encodeIndexedDBValue(keys[i]);
              if ('trivial' in key) record.key = key.trivial as IndexedDBRecord['key'];
              else record.keyEncoded = key.encoded;
            }
            const value = await encodeIndexedDBValue(values![i]);
            if ('trivial' in value) record.value = value.trivial as IndexedDBRecord['value'];
            else record.valueEncoded = value.encoded;
          } catch (e) {
            const type = e instanceof UnsupportedValue ? e.type : 'unreadable value';
            unsupported.set(type, (unsupported.get(type) ?? 0) + 1);
            continue;
          }
          const text = JSON.stringify(record);
          chars += text.length;
          if (chars > capChars) {
            overCap = true;
            break;
          }
          // By key, not position: a record inserted before others leaves their hashes as they were.
          const hash = itemHash(`${info.name}\u0000${shape.name}\u0000${texts[i]}`, text);
          digest.add(hash);
          // Records sit at their fingerprint's position (sparse in a keys-only read).
          shape.records[fingerprint.keys.length] = record;
          fingerprint.keys.push(texts[i]);
          fingerprint.hashes.push(hash);
          fingerprint.lengths.push(text.length);
        }
        shape.records.length = fingerprint.keys.length;
        if (unsupported.size > 0) {
          const count = [...unsupported.values()].reduce((a, b) => a + b, 0);
          const types = [...unsupported.keys()].join(', ');
          warnings.push(`IndexedDB ${info.name}/${shape.name}: ${count} value(s) could not be saved (${types})`);
        }
        stores.push(shape);
      }
      const database = { name: info.name, version: db.version, stores };
      digest.add(itemHash(info.name, databaseShapeText(info.name, db.version, stores, stores.map((s) => s.records.length))));
      shapes.push({ ...database, stores: stores.map(({ records: _records, ...s }) => s) });
      databases.push(database);
    } finally {
      db.close();
    }
  }
  if (overCap) {
    for (const db of databases) for (const store of db.stores) store.records = [];
    warnings.push(`IndexedDB of this origin holds more than ${Math.round(capChars / 1024 / 1024)} MB: its records were not saved (databases and stores were)`);
    chars = 0;
    fingerprints.clear();
  }
  const hash = digestText(digest, overCap);
  return { databases, warnings, chars, hash, partial: partial && !overCap, fingerprint: { hash, shape: JSON.stringify(shapes), overCap, stores: fingerprints } };
}
