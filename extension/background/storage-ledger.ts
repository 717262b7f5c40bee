/**
 * What the companion holds of each storage area, as a digest (extension/storage-digest.ts), so that
 * a page load whose storage did not change costs a digest instead of a full dump.
 *
 * The ledger folds every event the outbox accepts, in the outbox's order, by the companion's own
 * rules (companion/session-state/live-state.ts): localStorage keyed by origin and top origin,
 * sessionStorage by tab and origin; `storage.full` replaces, `storage.change` applies clear, then
 * remove, then set; a non-empty `tabs` event drops the sessionStorage of tabs it does not list.
 * So "the page's digest equals the ledger's" means "the companion, once it has everything sent so
 * far, holds exactly what the page holds", whichever frames or tabs reported the writes.
 *
 * It keeps one 53-bit hash per item (not the values). It lives in memory only: after a
 * service-worker restart it is empty and every area is sent in full once again. `forget()` is for
 * when the companion's state is no longer the fold of what we sent (resync, another session).
 */
import type { CaptureEvent, StorageArea } from '../../shared/capture-events.js';
import type { AreaDigest } from '../../shared/messages/content.js';
import { DigestSum, itemHash } from '../../shared/storage-digest.js';

interface Ledgered {
  hashes: Map<string, number>;
  digest: DigestSum;
}

export function ledgerKey(area: StorageArea, tabId: number, origin: string, topOrigin: string | undefined): string {
  return area === 'local' ? `local ${topOrigin ?? ''} ${origin}` : `session ${tabId} ${origin}`;
}

export class StorageLedger {
  private areas = new Map<string, Ledgered>();

  /** True if the companion (after everything sent so far) holds exactly what `digest` describes. */
  matches(key: string, digest: AreaDigest): boolean {
    const known = this.areas.get(key);
    return known !== undefined && known.digest.equals(digest);
  }

  forget(): void {
    this.areas.clear();
  }

  /** Fold one event the outbox accepted. */
  fold(event: CaptureEvent): void {
    switch (event.kind) {
      case 'storage.full': {
        const entry = this.reset(ledgerKey(event.area, event.tabId, event.origin, event.topOrigin));
        for (const key in event.items) this.set(entry, key, event.items[key]);
        return;
      }
      case 'storage.change': {
        const key = ledgerKey(event.area, event.tabId, event.origin, event.topOrigin);
        let entry = this.areas.get(key);
        if (!entry || event.clear) entry = this.reset(key);
        for (const k of event.remove) {
          const old = entry.hashes.get(k);
          if (old === undefined) continue;
          entry.hashes.delete(k);
          entry.digest.remove(old);
        }
        for (const k in event.set) this.set(entry, k, event.set[k]);
        return;
      }
      case 'tabs': {
        if (event.tabs.length === 0) return; // the companion ignores an empty list too
        const live = new Set(event.tabs.map((t) => `session ${t.tabId} `));
        for (const key of this.areas.keys()) {
          if (key.startsWith('session ') && !live.has(key.slice(0, key.indexOf(' ', 8) + 1))) this.areas.delete(key);
        }
        return;
      }
      default:
        return;
    }
  }

  private reset(key: string): Ledgered {
    const entry = { hashes: new Map<string, number>(), digest: new DigestSum() };
    this.areas.set(key, entry);
    return entry;
  }

  private set(entry: Ledgered, key: string, value: string): void {
    const hash = itemHash(key, value);
    const old = entry.hashes.get(key);
    if (old !== undefined) entry.digest.remove(old);
    entry.hashes.set(key, hash);
    entry.digest.add(hash);
  }
}
