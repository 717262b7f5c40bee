/**
 * One origin's IndexedDB as setup-page calls (companion/browser/restore/indexeddb.ts), and the
 * function that runs each call in the page. A call is a list of steps (create a database, a piece of
 * a record batch, close); calls stay under MESSAGE_CHARS like localStorage's (storage-writes.ts:
 * large DevTools messages are disproportionately slow), and steps are packed into as few calls as
 * that allows, since each call is a DevTools round trip (~5 ms idle, hundreds on a loaded machine):
 * a typical origin of a few small databases is one call. A batch of records travels as the JSON
 * text of an array, in pieces joined in the page before it is parsed and written.
 */
import type { IndexedDBDatabase } from '../../../shared/indexeddb.js';
import { databaseShapeText, digestText, keyText, type StoreShape } from '../../../shared/indexeddb-delta.js';
import { addToDigest, itemHash } from '../../../shared/storage-digest.js';
import { MESSAGE_CHARS } from './storage-writes.js';

export type IndexedDBWriteStep =
  /** Replace database `name` by an empty one of `version` with these stores and indexes. */
  | {
      op: 'create';
      name: string;
      version: number;
      stores: Array<Omit<IndexedDBDatabase['stores'][number], 'records'>>;
    }
  /** A piece of a record batch's JSON text for `store`; `end`: the batch is complete, write it. */
  | { op: 'put'; name: string; store: string; piece: string; end: boolean }
  | { op: 'close'; name: string };

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** `text` in pieces of at most `size` characters, never splitting a surrogate pair (CDP sends UTF-8). */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + size, text.length);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    out.push(text.slice(at, end));
    at = end;
  }
  return out.length > 0 ? out : [''];
}

export interface IndexedDBWriteCall {
  steps: IndexedDBWriteStep[];
}

/** The steps of one database, each under `messageChars` (a record batch's pieces included). */
export function indexedDBWriteSteps(db: IndexedDBDatabase, messageChars = MESSAGE_CHARS): IndexedDBWriteStep[] {
  const calls: IndexedDBWriteStep[] = [
    { op: 'create', name: db.name, version: db.version, stores: db.stores.map(({ records: _records, ...shape }) => shape) },
  ];
  for (const store of db.stores) {
    let batch: string[] = [];
    let chars = 2;
    const flush = () => {
      if (batch.length === 0) return;
      const parts = pieces(`[${batch.join(',')}]`, messageChars);
      parts.forEach((piece, i) => calls.push({ op: 'put', name: db.name, store: store.name, piece, end: i === parts.length - 1 }));
      batch = [];
      chars = 2;
    };
    for (const record of store.records) {
      const text = JSON.stringify(record);
      if (batch.length > 0 && chars + text.length + 1 > messageChars) flush();
      batch.push(text);
      chars += text.length + 1;
    }
    flush();
  }
  calls.push({ op: 'close', name: db.name });
  return calls;
}

function stepChars(step: IndexedDBWriteStep): number {
  return step.op === 'put' ? step.piece.length + step.store.length + step.name.length + 64 : JSON.stringify(step).length;
}

/** Every database of an origin as calls: steps in order, packed while a call stays under `messageChars`. */
export function indexedDBWriteCalls(databases: IndexedDBDatabase[], messageChars = MESSAGE_CHARS): IndexedDBWriteCall[] {
  const calls: IndexedDBWriteCall[] = [];
  let chars = 0;
  for (const db of databases) {
    for (const step of indexedDBWriteSteps(db, messageChars)) {
      const size = stepChars(step);
      if (calls.length === 0 || chars + size > messageChars) {
        calls.push({ steps: [] });
        chars = 0;
      }
      calls[calls.length - 1].steps.push(step);
      chars += size;
    }
  }
  return calls;
}

/**
 * The functions the setup page fingerprints what it writes with, exactly as the content script
 * fingerprints what it reads (extension/content/indexeddb-read.ts), as source text. All are
 * self-contained (no imports, no module constants).
 */
export const FINGERPRINT_SOURCE = `({ itemHash: ${itemHash.toString()}, addToDigest: ${addToDigest.toString()}, keyText: ${keyText.toString()}, databaseShapeText: ${databaseShapeText.toString()}, digestText: ${digestText.toString()} })`;

interface Fingerprinting {
  itemHash: typeof itemHash;
  addToDigest: typeof addToDigest;
  keyText: typeof keyText;
  databaseShapeText: typeof databaseShapeText;
  digestText: typeof digestText;
}

/**
 * Runs in the setup page (its own blank document of the origin; no site code). The first call of a
 * page brings the decoder's and the fingerprint's sources (indexeddb.ts), kept on the window for the
 * calls after it. Resolves with the fingerprint of everything written so far on this page: what the
 * content script's first read of the origin will find, so the extension can be told the companion
 * holds it already.
 */
export async function applyIndexedDBCall({ call, decoder, fingerprint }: { call: IndexedDBWriteCall; decoder?: string; fingerprint?: string }): Promise<string> {
  interface SetupWindow {
    restoryIdb?: {
      dbs: Record<string, IDBDatabase>;
      text: string;
      digest: { n: number; lo: number; hi: number };
      shapes: Record<string, { version: number; stores: StoreShape[]; counts: number[] }>;
    };
    restoryDecodeIndexedDB: (encoded: unknown) => unknown;
    restoryFingerprint: Fingerprinting;
  }
  const w = window as unknown as SetupWindow;
  const state = (w.restoryIdb ??= { dbs: {}, text: '', digest: { n: 0, lo: 0, hi: 0 }, shapes: {} });
  const done = <T>(request: IDBRequest<T>) =>
    new Promise<T>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
    });
  // Indirect eval of our own source, on our own blank page: the decoder has to travel as text.
  if (decoder) w.restoryDecodeIndexedDB = (0, eval)(`(${decoder})`) as SetupWindow['restoryDecodeIndexedDB'];
  if (fingerprint) w.restoryFingerprint = (0, eval)(fingerprint) as Fingerprinting;
  const f = w.restoryFingerprint;
  for (const step of call.steps) await applyStep(step);
  return f.digestText(state.digest);

  async function applyStep(call: IndexedDBWriteStep): Promise<void> {
  if (call.op === 'create') {
    state.dbs[call.name]?.close();
    // The snapshot is the truth, also in a used profile: what was there goes.
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(call.name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error ?? new Error(`could not delete ${call.name}`));
    });
    const open = indexedDB.open(call.name, call.version);
    open.onupgradeneeded = () => {
      const db = open.result;
      for (const s of call.stores) {
        const store = db.createObjectStore(s.name, { autoIncrement: s.autoIncrement, keyPath: s.keyPathArray ?? s.keyPath ?? null });
        for (const index of s.indexes) {
          store.createIndex(index.name, index.keyPathArray ?? index.keyPath ?? '', { unique: index.unique, multiEntry: index.multiEntry });
        }
      }
    };
    state.dbs[call.name] = await done(open);
    state.shapes[call.name] = { version: call.version, stores: call.stores, counts: call.stores.map(() => 0) };
    return;
  }
  if (call.op === 'close') {
    state.dbs[call.name]?.close();
    delete state.dbs[call.name];
    const shape = state.shapes[call.name];
    f.addToDigest(state.digest, f.itemHash(call.name, f.databaseShapeText(call.name, shape.version, shape.stores, shape.counts)));
    return;
  }
  state.text += call.piece;
  if (!call.end) return;
  const records = JSON.parse(state.text) as Array<{ key?: unknown; keyEncoded?: unknown; value?: unknown; valueEncoded?: unknown }>;
  state.text = '';
  const decode = w.restoryDecodeIndexedDB;
  const tx = state.dbs[call.name].transaction(call.store, 'readwrite');
  const store = tx.objectStore(call.store);
  const puts = records.map((r) => {
    const value = 'value' in r ? r.value : decode(r.valueEncoded);
    const key = 'key' in r ? r.key : 'keyEncoded' in r ? decode(r.keyEncoded) : undefined;
    // A key the store takes from the value (key path) must not be given again.
    return key === undefined ? store.put(value) : store.put(value, key as IDBValidKey);
  });
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error(`writing ${call.store} was aborted`));
  });
  // Each record as the content script will hash it once it reads it back: by its primary key (what
  // the put resolved with) and its JSON as the companion holds it.
  records.forEach((r, i) => {
    f.addToDigest(state.digest, f.itemHash(`${call.name}\u0000${call.store}\u0000${f.keyText(puts[i].result)}`, JSON.stringify(r)));
  });
  const shape = state.shapes[call.name];
  shape.counts[shape.stores.findIndex((s) => s.name === call.store)] += records.length;
  }
}
