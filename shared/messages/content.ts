/**
 * Messages between the content scripts and the background (runtime messaging inside the extension).
 *
 * Content script → background is one trust domain (our own code on both ends, and Chromium tells the
 * background who sent what), so these are plain types with a cheap top-level shape check and no zod:
 * a page load must not pay for a deep validation of a dump the extension itself produced. The trust
 * boundary is the companion, which validates every capture event (shared/capture-events.ts).
 *
 * Tab id, frame id and origin are deliberately absent: the background takes them from the sender,
 * which a page cannot forge.
 */
import type { HistoryEntryType, StorageArea } from '../capture-events.js';
import { FORM_FIELDS_PER_PAGE, FORM_KEY_MAX_CHARS, FORM_VALUE_MAX_CHARS, type FormFieldChange } from '../form-field-identity.js';
import type { IndexedDBDatabase, IndexedDBStoreChange } from '../indexeddb.js';
import type { FingerprintWire, StoreRead } from '../indexeddb-fingerprint.js';

/** Fingerprint of one storage area (see extension/storage-digest.ts). */
export interface AreaDigest {
  area: StorageArea;
  n: number;
  lo: number;
  hi: number;
}

export type ContentMessage =
  /**
   * Once per document, at document_start: digests of the storage areas (and the top frame's viewport).
   * The background answers with the areas whose full contents it needs (`StartReply`).
   */
  | {
      type: 'restory.start';
      storage: AreaDigest[];
      viewport?: { width: number; height: number };
      /** Top frame: how Chromium filed this document's history entry (Navigation API). */
      entry?: HistoryEntryType;
    }
  | { type: 'restory.storage.full'; area: StorageArea; items: Record<string, string> }
  | { type: 'restory.storage.change'; area: StorageArea; clear: boolean; set: Record<string, string>; remove: string[] }
  | { type: 'restory.scroll'; x: number; y: number }
  /** Top frame: form fields changed in one burst of typing (extension/content/form-capture.ts); `url` without #fragment. */
  | { type: 'restory.form'; url: string; fields: FormFieldChange[] }
  | { type: 'restory.viewport'; width: number; height: number }
  /** Top frame: how Chromium filed a same-document entry, or a document restored from the back/forward cache. */
  | { type: 'restory.entry'; url: string; how: 'commit' | 'history'; entry: HistoryEntryType }
  /**
   * IndexedDB of the sender's origin (extension/content/indexeddb-capture.ts). `signal` is the
   * origin's IndexedDB usage, which moves with every write; `hash` fingerprints a full read.
   * `probe` asks whether the companion already holds the state behind `signal` (IndexedDBProbeReply).
   */
  | { type: 'restory.idb.probe'; signal: number }
  /** The read found what the companion holds; with the read's fingerprint when the background has none for it (IndexedDBProbeReply). */
  | { type: 'restory.idb.same'; signal: number; hash: string; fingerprint?: FingerprintWire }
  | { type: 'restory.idb.full'; signal: number; hash: string; databases: IndexedDBDatabase[]; warnings: string[]; fingerprint: FingerprintWire }
  /**
   * What changed since the read `base`, which the background said the companion holds; answered by
   * IndexedDBDeltaReply. `inserted`: per change, the fingerprints of the records it inserts.
   */
  | { type: 'restory.idb.delta'; signal: number; base: string; hash: string; stores: IndexedDBStoreChange[]; inserted: StoreRead[]; warnings: string[] }
  /** The fingerprint of what the companion holds, for a document with no base of its own (IndexedDBBaseReply). */
  | { type: 'restory.idb.base' };

/** The background's answer to `restory.idb.base`: none when it does not know it (then send whole). */
export interface IndexedDBBaseReply {
  fingerprint?: FingerprintWire;
}

/**
 * The background's answer to `restory.idb.delta`: false when the companion holds something else than
 * `base` by now (another document reported since), with what it holds then, as a probe answers; false
 * without a hash when the change itself is refused (send whole).
 */
export interface IndexedDBDeltaReply {
  accepted: boolean;
  hash?: string;
  fingerprinted?: boolean;
}

/** The background's answer to `restory.idb.probe`. */
export interface IndexedDBProbeReply {
  /** The companion holds what the origin held when its usage was `signal`: nothing to read. */
  fresh: boolean;
  /** Fingerprint of what the companion holds for the origin, if anything. */
  hash?: string;
  /** The background has the full fingerprint behind `hash` (else a read finding it sends its own). */
  fingerprinted?: boolean;
}

/** The background's answer to `restory.start`: send these areas in full. */
export interface StartReply {
  full: StorageArea[];
}

/** Background → content script: forget what you reported and send full dumps again (resync). */
export type BackgroundToContent = { type: 'restory.dump' };
export const DUMP_REQUEST: BackgroundToContent = { type: 'restory.dump' };

const isArea = (a: unknown): a is StorageArea => a === 'local' || a === 'session';
const ENTRY_TYPES = new Set<HistoryEntryType>(['push', 'replace', 'reload', 'traverse']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSize = (n: unknown) => Number.isInteger(n) && (n as number) > 0;

/**
 * A plain loop of typeof checks, in place: no copy of a 5 MB dump, and a "__proto__" key survives.
 * Kept (unlike a full schema) because the companion refuses a whole batch with one bad event, and a
 * refused batch is resent forever: one malformed value must not be able to stall capture.
 */
function isStringRecord(value: unknown): value is Record<string, string> {
  if (!isObject(value)) return false;
  for (const key in value) if (typeof value[key] !== 'string') return false;
  return true;
}

/** Within the companion's limits too (shared/state.ts FormFieldSchema): a field it would refuse must not get that far. */
function isFormFields(value: unknown): value is FormFieldChange[] {
  if (!Array.isArray(value) || value.length > FORM_FIELDS_PER_PAGE) return false;
  return value.every((f) => {
    if (!isObject(f) || typeof f.key !== 'string' || f.key.length === 0 || f.key.length > FORM_KEY_MAX_CHARS) return false;
    const v = f.value;
    if (typeof v === 'boolean' || v === null) return true;
    if (typeof v === 'string') return v.length <= FORM_VALUE_MAX_CHARS;
    return Array.isArray(v) && v.every((s) => typeof s === 'string') && v.reduce((n: number, s: string) => n + s.length, 0) <= FORM_VALUE_MAX_CHARS;
  });
}

/** Parallel keys, hashes and lengths (a store's fingerprint): what the service worker splices. */
function isStoreRead(v: unknown): v is StoreRead {
  if (!isObject(v) || !Array.isArray(v.keys) || !Array.isArray(v.hashes) || !Array.isArray(v.lengths)) return false;
  const n = v.keys.length;
  return v.hashes.length === n && v.lengths.length === n && v.keys.every((k) => typeof k === 'string') && v.hashes.every(Number.isFinite) && v.lengths.every(Number.isFinite);
}

function isFingerprint(v: unknown): v is FingerprintWire {
  return isObject(v) && typeof v.hash === 'string' && typeof v.shape === 'string' && typeof v.overCap === 'boolean' &&
    Array.isArray(v.stores) && v.stores.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && isStoreRead(e[1]));
}

/**
 * The shape the background relies on, checked by hand (no zod, no copies): enough that a bug cannot
 * make the background throw or emit an event the companion would refuse. Null for anything else,
 * including other extension messages (popup).
 */
export function asContentMessage(raw: unknown): ContentMessage | null {
  if (!isObject(raw)) return null;
  const m = raw;
  switch (m.type) {
    case 'restory.start':
      return Array.isArray(m.storage) && m.storage.every((d) => isObject(d) && isArea(d.area) && Number.isInteger(d.n) && Number.isInteger(d.lo) && Number.isInteger(d.hi)) &&
        (m.viewport === undefined || (isObject(m.viewport) && isSize(m.viewport.width) && isSize(m.viewport.height))) &&
        (m.entry === undefined || ENTRY_TYPES.has(m.entry as HistoryEntryType))
        ? (m as ContentMessage)
        : null;
    case 'restory.storage.full':
      return isArea(m.area) && isStringRecord(m.items) ? (m as ContentMessage) : null;
    case 'restory.storage.change':
      return isArea(m.area) && typeof m.clear === 'boolean' && isStringRecord(m.set) && Array.isArray(m.remove) && m.remove.every((k) => typeof k === 'string') ? (m as ContentMessage) : null;
    case 'restory.scroll':
      return Number.isFinite(m.x) && Number.isFinite(m.y) ? (m as ContentMessage) : null;
    case 'restory.form':
      return typeof m.url === 'string' && isFormFields(m.fields) ? (m as ContentMessage) : null;
    case 'restory.viewport':
      return isSize(m.width) && isSize(m.height) ? (m as ContentMessage) : null;
    case 'restory.entry':
      return typeof m.url === 'string' && (m.how === 'commit' || m.how === 'history') && ENTRY_TYPES.has(m.entry as HistoryEntryType) ? (m as ContentMessage) : null;
    case 'restory.idb.probe':
      return Number.isFinite(m.signal) ? (m as ContentMessage) : null;
    case 'restory.idb.same':
      return Number.isFinite(m.signal) && typeof m.hash === 'string' && (m.fingerprint === undefined || isFingerprint(m.fingerprint)) ? (m as ContentMessage) : null;
    case 'restory.idb.full':
      // The databases themselves are checked against their zod schema by the background before they
      // become an event (extension/background/indexeddb-capture.ts).
      return Number.isFinite(m.signal) && typeof m.hash === 'string' && Array.isArray(m.databases) && Array.isArray(m.warnings) && m.warnings.every((w) => typeof w === 'string') &&
        isFingerprint(m.fingerprint)
        ? (m as ContentMessage)
        : null;
    case 'restory.idb.delta':
      // The changes themselves are checked against their zod schema by the background, as for full.
      return Number.isFinite(m.signal) && typeof m.base === 'string' && typeof m.hash === 'string' && Array.isArray(m.stores) && Array.isArray(m.warnings) && m.warnings.every((w) => typeof w === 'string') &&
        Array.isArray(m.inserted) && m.inserted.length === m.stores.length && m.inserted.every(isStoreRead)
        ? (m as ContentMessage)
        : null;
    case 'restory.idb.base':
      return m as ContentMessage;
    default:
      return null;
  }
}
