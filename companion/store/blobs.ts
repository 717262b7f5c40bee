/**
 * Snapshot blobs: the bulky, rarely changing parts of a snapshot stored once and shared.
 *
 * A session holding 5 MB of localStorage used to store 5 MB per snapshot (50 MB with 10 kept),
 * and persisting is O(database size). From schema 3 on, a snapshot row's `state` column holds the
 * SessionState JSON with every large storage list replaced by a list of blob references:
 *
 *     origins[i].localStorage             →  {"$blobs": ["<sha256 hex>", ...]}
 *     tabs[i].sessionStorage[j].items     →  {"$blobs": ["<sha256 hex>", ...]}
 *     origins[i].indexedDB[d].stores[s].records  →  {"$blobs": [...]}   (IndexedDB records, cut
 *       the same way with each record's JSON standing for name + value: recordChunks below)
 *
 * The items are cut into chunks (below) and each chunk is stored once in
 * `snapshot_blobs(hash, data, bytes)`: `data` is exactly `JSON.stringify(chunk)` (the canonical
 * JSON: LiveState writes `{name, value}` items in insertion order) and `hash` its sha256, so equal
 * chunks in any snapshot of any session are one row. The list is the chunks concatenated in order.
 * `snapshot_blob_refs(snapshot_id, hash)` says which snapshot uses which blob (cascading from
 * session_snapshots, so deleting a snapshot or a session drops its references); pruning and
 * deleting then remove the blobs no snapshot refers to, in the same transaction.
 *
 * Why chunks, not one blob per origin: a page holding 5 MB usually keeps writing small keys to the
 * same origin, and one blob per origin would then store a new 5 MB copy at every snapshot. Chunk
 * boundaries are content-defined — a chunk ends after an item whose name hashes to 0 mod
 * CHUNK_DIVISOR once the chunk holds CHUNK_MIN characters, or in any case at CHUNK_MAX, and an item
 * of CHUNK_ALONE or more is a chunk of its own — so they depend only on the items themselves
 * (journal replay cuts the same chunks), and changing, adding (LiveState appends new keys) or
 * removing a key rewrites only the chunk it is in, usually (a boundary that moves can rewrite the
 * next chunk or two too).
 *
 * Lists whose JSON is under BLOB_MIN_BYTES stay inline (a blob row and a reference cost more than
 * they save), and so do all snapshots written before schema 3: readers accept both forms. Since
 * JSON.stringify is compositional, the full state's JSON length follows from the row's and the
 * chunks' lengths: `state_bytes` keeps reporting the full logical size without re-serialising.
 * content_hash is still computed on the full state (records.ts), so deduplication is unchanged.
 */
import { createHash } from 'node:crypto';
import { RestoryError } from '../../shared/errors.js';
import type { IndexedDBRecord } from '../../shared/indexeddb.js';
import type { SessionState, StorageItem } from '../../shared/state.js';

/**
 * Storage lists whose JSON is shorter than this stay inline: a blob costs ~300 bytes of hashes,
 * rows and index entries per snapshot, and small lists change too often to be shared much.
 */
export const BLOB_MIN_BYTES = 8 * 1024;
/** Chunking of a list (in UTF-16 code units of names and values). */
export const CHUNK_MIN = 16 * 1024;
export const CHUNK_MAX = 256 * 1024;
export const CHUNK_DIVISOR = 8;
/** An item this large is a chunk of its own, so that its boundaries do not move when it changes. */
export const CHUNK_ALONE = 64 * 1024;

export interface BlobRefs {
  $blobs: string[];
}

export interface StoredState {
  /** What goes into session_snapshots.state. */
  json: string;
  /** hash → data, for every reference in `json`. */
  blobs: Map<string, string>;
  /** Byte length of JSON.stringify(state), the full state's size. */
  bytes: number;
}

export function blobHash(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** FNV-1a of a key name: decides chunk boundaries. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Cut items into content-defined chunks (see the header). Deterministic. */
export function chunkItems(items: StorageItem[]): StorageItem[][] {
  const chunks: StorageItem[][] = [];
  let current: StorageItem[] = [];
  let size = 0;
  for (const item of items) {
    const itemSize = item.name.length + item.value.length;
    if (itemSize >= CHUNK_ALONE && current.length > 0) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += itemSize;
    if (itemSize >= CHUNK_ALONE || size >= CHUNK_MAX || (size >= CHUNK_MIN && nameHash(item.name) % CHUNK_DIVISOR === 0)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** IndexedDB records as the JSON of content-defined chunks (as chunkItems, on each record's JSON). */
function recordChunks(records: IndexedDBRecord[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  const cut = () => {
    chunks.push(`[${current.join(',')}]`);
    current = [];
    size = 0;
  };
  for (const record of records) {
    const text = JSON.stringify(record);
    if (text.length >= CHUNK_ALONE && current.length > 0) cut();
    current.push(text);
    size += text.length;
    if (text.length >= CHUNK_ALONE || size >= CHUNK_MAX || (size >= CHUNK_MIN && nameHash(text) % CHUNK_DIVISOR === 0)) cut();
  }
  if (current.length > 0) cut();
  return chunks;
}

/**
 * Split a state into its row JSON and blobs. Every list is serialised and hashed at each snapshot:
 * memoising hashes of unchanged chunks saved ~5 of ~30 ms for 5 MB, not worth keeping megabytes of
 * strings alive per session.
 */
export function splitState(state: SessionState): StoredState {
  const blobs = new Map<string, string>();
  let extra = 0; // full lists' JSON bytes minus their references' bytes
  const toRefs = <T>(items: T[], chunk: (items: T[]) => string[]): T[] | BlobRefs => {
    if (items.length === 0) return items;
    const datas = chunk(items);
    // '[' + chunk contents joined by ',' + ']': each chunk's JSON minus its own brackets.
    const listBytes = datas.reduce((n, d) => n + Buffer.byteLength(d) - 1, 1);
    if (listBytes < BLOB_MIN_BYTES) return items;
    const ref: BlobRefs = {
      $blobs: datas.map((data) => {
        const hash = blobHash(data);
        if (!blobs.has(hash)) blobs.set(hash, data);
        return hash;
      }),
    };
    extra += listBytes - Buffer.byteLength(JSON.stringify(ref));
    return ref;
  };
  const itemChunks = (items: StorageItem[]) => chunkItems(items).map((c) => JSON.stringify(c));
  const stored = {
    ...state,
    origins: state.origins.map((o) => ({
      ...o,
      localStorage: toRefs(o.localStorage, itemChunks),
      ...(o.indexedDB
        ? { indexedDB: o.indexedDB.map((db) => ({ ...db, stores: db.stores.map((st) => ({ ...st, records: toRefs(st.records, recordChunks) })) })) }
        : {}),
    })),
    tabs: state.tabs.map((t) => ({ ...t, sessionStorage: t.sessionStorage.map((s) => ({ ...s, items: toRefs(s.items, itemChunks) })) })),
  };
  const json = JSON.stringify(stored);
  return { json, blobs, bytes: Buffer.byteLength(json) + extra };
}

function isRefs(v: unknown): v is BlobRefs {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as BlobRefs).$blobs);
}

/**
 * Rebuild the full state from a row's JSON, reading each referenced blob with `load` (undefined:
 * missing). Inline lists (schema 2 rows, small lists) are taken as they are.
 */
export function joinState(json: string, load: (hash: string) => string | undefined, where: string): SessionState {
  const state = JSON.parse(json) as SessionState;
  const resolve = <T = StorageItem>(v: T[] | BlobRefs): T[] => {
    if (!isRefs(v)) return v;
    const items: T[] = [];
    for (const hash of v.$blobs) {
      const data = load(hash);
      if (data === undefined) {
        throw new RestoryError('storage_failed', `${where} refers to storage blob ${hash}, which is missing from the database`);
      }
      for (const item of JSON.parse(data) as T[]) items.push(item);
    }
    return items;
  };
  for (const o of state.origins) {
    o.localStorage = resolve(o.localStorage as StorageItem[] | BlobRefs);
    for (const db of o.indexedDB ?? []) for (const st of db.stores) st.records = resolve<IndexedDBRecord>(st.records as IndexedDBRecord[] | BlobRefs);
  }
  for (const t of state.tabs) for (const s of t.sessionStorage) s.items = resolve(s.items as StorageItem[] | BlobRefs);
  return state;
}
