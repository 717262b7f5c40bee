/**
 * IndexedDB reports from the content scripts (extension/content/indexeddb-capture.ts) → `indexeddb`
 * capture events, and what the companion holds per origin, so that a page load or a tick whose
 * origin did not change since costs one small message and no read.
 *
 * The ledger keeps, per origin (and partition), the usage `signal` at which the companion's copy was known to be
 * current, the hash of that copy and, when known, its full fingerprint (keys and record hashes,
 * shared/indexeddb-fingerprint.ts), which a document without a base of its own diffs against. It
 * lives in memory only: after a service-worker restart each origin with IndexedDB is read and sent
 * once again. Several documents of one origin share one entry, so a change is read by whichever
 * notices it first, the others find it fresh, and whichever writes next sends a delta.
 */
import type { CaptureEvent } from '../../shared/capture-events.js';
import { partitionKey } from '../../shared/storage-partition.js';
import { IndexedDBDatabaseSchema, IndexedDBStoreChangeSchema } from '../../shared/indexeddb.js';
import { advanceFingerprint, fingerprintFromWire, fingerprintToWire, type ReadFingerprint } from '../../shared/indexeddb-fingerprint.js';
import type { ContentMessage, IndexedDBBaseReply, IndexedDBDeltaReply, IndexedDBProbeReply } from '../../shared/messages/content.js';
import { counters } from './counters.js';
import { warn } from './debug.js';

type IndexedDBMessage = Extract<ContentMessage, { type: 'restory.idb.probe' | 'restory.idb.same' | 'restory.idb.full' | 'restory.idb.delta' | 'restory.idb.base' }>;

const DatabasesSchema = IndexedDBDatabaseSchema.array();

const ChangesSchema = IndexedDBStoreChangeSchema.array();

export class IndexedDBLedger {
  private origins = new Map<string, { signal: number; hash: string; fingerprint?: ReadFingerprint }>();

  forget(): void {
    this.origins.clear();
  }

  /**
   * The companion holds these origins' IndexedDB as fingerprinted (a resume just wrote them into
   * this profile, companion/browser/restore/indexeddb.ts): the first read of each then finds it held
   * and sends nothing, instead of sending the whole origin back. No usage signal is known yet, so a
   * document still reads once. An origin already reported keeps what it has.
   */
  seed(origins: ReadonlyArray<{ origin: string; topOrigin?: string; hash: string }>): void {
    for (const { origin, topOrigin, hash } of origins) {
      const key = partitionKey(origin, topOrigin);
      if (!this.origins.has(key)) this.origins.set(key, { signal: Number.NaN, hash });
    }
  }

  /**
   * Handle one message from a frame of `origin` (in `topOrigin`'s partition when that is set: a
   * cross-site iframe); `reply` answers a probe or a delta. Emits an event only for a read whose
   * contents the companion does not hold yet: whole, or as a delta on top of exactly what it holds
   * (events reach the companion in the order they are emitted).
   */
  handle(
    message: IndexedDBMessage,
    scope: { tabId: number; origin: string; topOrigin?: string },
    emit: (event: CaptureEvent) => void,
    reply: (r: IndexedDBProbeReply | IndexedDBDeltaReply | IndexedDBBaseReply) => void,
  ): void {
    const { tabId, origin, topOrigin } = scope;
    const key = partitionKey(origin, topOrigin);
    const where = { tabId, origin, ...(topOrigin ? { topOrigin } : {}) };
    const known = this.origins.get(key);
    switch (message.type) {
      case 'restory.idb.probe':
        reply({ fresh: known?.signal === message.signal, ...(known ? { hash: known.hash, fingerprinted: known.fingerprint !== undefined } : {}) });
        return;
      case 'restory.idb.same':
        if (known?.hash !== message.hash) return;
        known.signal = message.signal;
        // After a resume the ledger has the restored hash only: the first read that finds it supplies the rest.
        if (!known.fingerprint && message.fingerprint?.hash === known.hash) known.fingerprint = fingerprintFromWire(message.fingerprint);
        return;
      case 'restory.idb.base':
        reply(known?.fingerprint ? { fingerprint: fingerprintToWire(known.fingerprint) } : {});
        return;
      case 'restory.idb.full': {
        // The companion refuses a whole batch with one bad event, and a refused batch is resent
        // forever: what goes out must pass its schema. Only read dumps pay for this check.
        counters.zodParses++;
        // The message's own objects go on (the parse's copy is dropped): no second copy of a big dump.
        const parsed = DatabasesSchema.safeParse(message.databases);
        if (!parsed.success) {
          warn('indexeddb', `dropping the IndexedDB of ${origin}: it does not match the schema`, parsed.error);
          return;
        }
        for (const w of message.warnings) warn('indexeddb', `${origin}: ${w}`);
        const fingerprint = message.fingerprint.hash === message.hash ? fingerprintFromWire(message.fingerprint) : undefined;
        this.origins.set(key, { signal: message.signal, hash: message.hash, fingerprint });
        emit({ kind: 'indexeddb', ...where, databases: message.databases, warnings: message.warnings, hash: message.hash });
        return;
      }
      case 'restory.idb.delta': {
        // Another document of the origin may have reported since this one probed: then the delta is
        // on top of something the companion no longer holds; the sender learns what it holds now.
        if (known?.hash !== message.base) {
          reply({ accepted: false, ...(known ? { hash: known.hash, fingerprinted: known.fingerprint !== undefined } : {}) });
          return;
        }
        counters.zodParses++;
        const parsed = ChangesSchema.safeParse(message.stores);
        if (!parsed.success) {
          warn('indexeddb', `refusing a change to the IndexedDB of ${origin}: it does not match the schema`, parsed.error);
          reply({ accepted: false });
          return;
        }
        for (const w of message.warnings) warn('indexeddb', `${origin}: ${w}`);
        // The same splices the companion applies to its records, applied to the fingerprint of them.
        const fingerprint = known.fingerprint && advanceFingerprint(known.fingerprint, message.stores, message.inserted, message.hash);
        this.origins.set(key, { signal: message.signal, hash: message.hash, fingerprint: fingerprint ?? undefined });
        emit({ kind: 'indexeddb.delta', ...where, base: message.base, hash: message.hash, stores: message.stores, warnings: message.warnings });
        reply({ accepted: true });
        return;
      }
    }
  }
}
