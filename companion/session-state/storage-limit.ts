/**
 * The per-session storage limit (config `sessionMaxStorageBytes`): how storage is counted, and how
 * a capture event is cut down so that folding it in keeps the session within the limit.
 *
 * Why: every cross-site frame has its own partitioned localStorage quota (10 MiB in Chromium), so a
 * page opening many such frames, each filling its quota, would multiply what the companion holds
 * for one session by the number of frames. Past the limit, storage that would grow the session is
 * left out and everything else (tabs, navigation, cookies, scroll, and storage writes that shrink
 * or delete) is captured as before.
 *
 * Counting is Chromium's quota measure: 2 bytes per UTF-16 code unit of each key and value, which
 * costs O(1) per string (its length). An origin's IndexedDB counts as 2 bytes per character of its
 * databases' JSON, computed once per `databases` array (memoised here, so the limit check and the
 * fold that follows do not both serialise it). LiveState keeps the running total (`storageBytes`),
 * updated by each event it folds in, never recounted while capturing.
 *
 * Determinism: the stores cut events down *before* they are journaled (store/sqljs-store.ts) or
 * written as capture batches (store/pg-store.ts), so what is replayed after a crash is the cut
 * event itself, and the replayed state equals the live one whatever the limit is at replay.
 */
import type { CaptureEvent, SequencedEvent } from '../../shared/capture-events.js';
import type { IndexedDBDatabase, IndexedDBRecord, IndexedDBStoreChange } from '../../shared/indexeddb.js';

/** What the live state exposes to the limit check: its running total and a read-only look at what an event replaces. */
export interface StorageHolder {
  readonly storageBytes: number;
  /** The items of an area as they are, without creating it. */
  storedArea(area: 'local' | 'session', tabId: number, origin: string, topOrigin?: string): ReadonlyMap<string, string> | undefined;
  /** The origin's IndexedDB databases as they are (in `topOrigin`'s partition, if given). */
  storedIndexedDB(origin: string, topOrigin?: string): readonly IndexedDBDatabase[] | undefined;
}

export function itemBytes(key: string, value: string): number {
  return 2 * (key.length + value.length);
}

export function areaBytes(items: ReadonlyMap<string, string> | undefined): number {
  let n = 0;
  if (items) for (const [k, v] of items) n += itemBytes(k, v);
  return n;
}

const indexedDBSizes = new WeakMap<readonly IndexedDBDatabase[], number>();

/** Databases are never edited in place (a delta makes new arrays), so the size of an array object never changes. */
export function indexedDBBytes(databases: readonly IndexedDBDatabase[]): number {
  let n = indexedDBSizes.get(databases);
  if (n === undefined) {
    n = databases.length === 0 ? 0 : 2 * JSON.stringify(databases).length;
    indexedDBSizes.set(databases, n);
  }
  return n;
}

/** Record the size of databases built from others by a delta, so that it is not counted by serialising them. */
export function rememberIndexedDBBytes(databases: readonly IndexedDBDatabase[], bytes: number): void {
  indexedDBSizes.set(databases, bytes);
}

const recordSizes = new WeakMap<IndexedDBRecord, number>();

/**
 * Characters of a record's JSON, memoised: a delta's inserted records are measured by the limit check
 * (growthBound) and again by the fold (storeChangeBytes), and a record a delta removes later was
 * measured when it came in. Records, like databases, are never edited in place.
 */
function recordChars(record: IndexedDBRecord): number {
  let n = recordSizes.get(record);
  if (n === undefined) {
    n = JSON.stringify(record).length;
    recordSizes.set(record, n);
  }
  return n;
}

/**
 * How much `change` grows the JSON of `records` (×2, as indexedDBBytes counts), from the records it
 * removes and inserts alone: an array's JSON is its items' JSON, a comma between each two, and []. So
 * indexedDBBytes of the databases after the change is exactly the old count plus this.
 */
export function storeChangeBytes(records: readonly IndexedDBRecord[], change: IndexedDBStoreChange): number {
  let chars = Math.max(0, change.after - 1) - Math.max(0, change.before - 1);
  for (const s of change.splices) {
    for (const r of s.insert) chars += recordChars(r);
    for (let i = s.at; i < s.at + s.remove && i < records.length; i++) chars -= recordChars(records[i]);
  }
  return 2 * chars;
}

/** The most an event can add to a session's storage, whatever the session holds. */
function growthBound(event: CaptureEvent): number {
  switch (event.kind) {
    case 'storage.change': {
      let n = 0;
      for (const k of Object.keys(event.set)) n += itemBytes(k, event.set[k]);
      return n;
    }
    case 'storage.full': {
      let n = 0;
      for (const k of Object.keys(event.items)) n += itemBytes(k, event.items[k]);
      return n;
    }
    case 'indexeddb':
      return indexedDBBytes(event.databases);
    case 'indexeddb.delta': {
      let n = 0;
      for (const c of event.stores) for (const s of c.splices) for (const r of s.insert) n += 2 * (recordChars(r) + 1);
      return n;
    }
    default:
      return 0;
  }
}

/**
 * Whether folding the events in could take the session past `limit`. False for almost every batch:
 * then the stores fold it as it came, without looking at each event against the state.
 */
export function mayExceedLimit(holder: StorageHolder, events: readonly SequencedEvent[], limit: number): boolean {
  let bound = holder.storageBytes;
  for (const e of events) {
    bound += growthBound(e.event);
    if (bound > limit) return true;
  }
  return false;
}

export interface Fitted {
  /** The event to fold in: the same object when nothing was cut; null when nothing of it is left. */
  event: CaptureEvent | null;
  /** Something of it was left out because of the limit. */
  cut: boolean;
}

/**
 * `event` cut down so that folding it into `holder` as it is now keeps the session within `limit`:
 *  - storage.change: deletes and writes that do not grow the session apply; a write that would take
 *    it past the limit is left out, and the key's older value removed (restoring an outdated value
 *    would be worse than restoring none).
 *  - storage.full: the area becomes the items that fit, in the order they came.
 *  - indexeddb: an origin whose databases would take it past the limit keeps none, with a warning
 *    that resume shows; indexeddb.delta likewise (a delta is folded in whole or not at all).
 * Other kinds pass unchanged.
 */
export function fitToLimit(holder: StorageHolder, event: CaptureEvent, limit: number): Fitted {
  switch (event.kind) {
    case 'storage.change':
      return fitChange(holder, event, limit);
    case 'storage.full':
      return fitFull(holder, event, limit);
    case 'indexeddb': {
      const old = holder.storedIndexedDB(event.origin, event.topOrigin);
      const growth = indexedDBBytes(event.databases) - (old ? indexedDBBytes(old) : 0);
      if (growth <= 0 || holder.storageBytes + growth <= limit) return { event, cut: false };
      const warning = `IndexedDB of ${event.origin} not saved: the session reached its storage limit of ${limit} bytes (sessionMaxStorageBytes)`;
      return { event: { ...event, databases: [], warnings: [...event.warnings, warning] }, cut: true };
    }
    case 'indexeddb.delta': {
      // Applied whole or not at all; past the limit the origin keeps nothing, as a whole read would.
      const old = holder.storedIndexedDB(event.origin, event.topOrigin);
      const growth = old ? deltaGrowth(old, event) : growthBound(event);
      if (growth === null || growth <= 0 || holder.storageBytes + growth <= limit) return { event, cut: false };
      const warning = `IndexedDB of ${event.origin} not saved: the session reached its storage limit of ${limit} bytes (sessionMaxStorageBytes)`;
      const { tabId, origin, topOrigin, hash } = event;
      return { event: { kind: 'indexeddb', tabId, origin, ...(topOrigin ? { topOrigin } : {}), databases: [], warnings: [...event.warnings, warning], hash }, cut: true };
    }
    default:
      return { event, cut: false };
  }
}

/** What folding `event` into `databases` adds; null if it does not fit them (then it changes nothing). */
function deltaGrowth(databases: readonly IndexedDBDatabase[], event: Extract<CaptureEvent, { kind: 'indexeddb.delta' }>): number | null {
  let n = 0;
  for (const change of event.stores) {
    const store = databases.find((d) => d.name === change.database)?.stores.find((st) => st.name === change.store);
    if (!store || store.records.length !== change.before) return null;
    n += storeChangeBytes(store.records, change);
  }
  return n;
}

function fitChange(holder: StorageHolder, event: Extract<CaptureEvent, { kind: 'storage.change' }>, limit: number): Fitted {
  const area = holder.storedArea(event.area, event.tabId, event.origin, event.topOrigin);
  const removed = new Set(event.remove);
  // Applied in the event's order: clear, remove, set.
  let total = holder.storageBytes;
  if (event.clear) total -= areaBytes(area);
  else for (const k of removed) total -= oldBytes(area, k);
  // Object.create(null): a `__proto__` key stays an own key (capture-events.ts StorageItemsSchema).
  const set = Object.create(null) as Record<string, string>;
  const remove = [...event.remove];
  let cut = false;
  for (const k of Object.keys(event.set)) {
    const v = event.set[k];
    const old = event.clear || removed.has(k) ? undefined : area?.get(k);
    const before = old === undefined ? 0 : itemBytes(k, old);
    const growth = itemBytes(k, v) - before;
    if (growth <= 0 || total + growth <= limit) {
      set[k] = v;
      total += growth;
      continue;
    }
    cut = true;
    if (old !== undefined) {
      remove.push(k);
      total -= before;
    }
  }
  if (!cut) return { event, cut };
  const nothingLeft = !event.clear && remove.length === 0 && Object.keys(set).length === 0;
  return { event: nothingLeft ? null : { ...event, set, remove }, cut };
}

function fitFull(holder: StorageHolder, event: Extract<CaptureEvent, { kind: 'storage.full' }>, limit: number): Fitted {
  let total = holder.storageBytes - areaBytes(holder.storedArea(event.area, event.tabId, event.origin, event.topOrigin));
  const keys = Object.keys(event.items);
  let fits = total;
  for (const k of keys) fits += itemBytes(k, event.items[k]);
  // Within the limit, or no bigger than what the session holds now (a limit lowered since).
  if (fits <= limit || fits <= holder.storageBytes) return { event, cut: false };
  const items = Object.create(null) as Record<string, string>;
  for (const k of keys) {
    const size = itemBytes(k, event.items[k]);
    if (total + size > limit) continue;
    items[k] = event.items[k];
    total += size;
  }
  return { event: { ...event, items }, cut: true };
}

function oldBytes(area: ReadonlyMap<string, string> | undefined, key: string): number {
  const old = area?.get(key);
  return old === undefined ? 0 : itemBytes(key, old);
}
