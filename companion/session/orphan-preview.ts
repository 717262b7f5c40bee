/**
 * The store as the next companion will see it, for the commands that read it while no companion
 * runs (`restory snapshots`, `restory export`).
 *
 * A session still `active` there lost its companion: whatever it captured after its newest snapshot
 * was acknowledged, and lives only in its live state (its row and the journal) until the next
 * companion folds it into a `recovery` snapshot (orphans.ts). Reading the snapshots as they are
 * would show an older state than the one `resume` will restore, or none at all for a session killed
 * before its first snapshot ("has no snapshot yet" while `list` calls it recoverable). So the store
 * is opened read-only with its mutations kept in memory, and the very orphan recovery the companion
 * runs at start-up runs on it: same snapshot, same verdict, same snapshot ids — and not a byte written.
 */
import { loadConfig } from '../config.js';
import { dataPaths } from '../data-dir.js';
import { isSharedStore, openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { BrowserRecords, browserRuns } from './browser-records.js';
import { classifyOrphans } from './orphans.js';

/** Sessions whose browser outlived its companion: the next companion adopts them, so they are no orphans. */
/** Session id → CDP endpoint of each browser that outlived its companion and still runs. */
export function liveBrowserEndpoints(dataDir: string): Map<string, string> {
  const records = new BrowserRecords(dataPaths(dataDir).browsers);
  return new Map(records.all().filter(browserRuns).map((r) => [r.sessionId, r.cdpEndpoint]));
}

export function sessionsWithLiveBrowser(dataDir: string): Set<string> {
  return new Set(liveBrowserEndpoints(dataDir).keys());
}

/** Run `fn` on the store of `dataDir` with its orphans recovered in memory only (see the header). */
export async function withOrphansRecovered<T>(dataDir: string, fn: (store: Store) => Promise<T>, now = Date.now()): Promise<T> {
  const config = loadConfig(dataDir);
  if (isSharedStore()) {
    // The shared store shows a dead owner's session recoverable itself, and cannot keep writes in
    // memory: its newest stored snapshot is shown (the next resume adds the recovery snapshot).
    const shared = await openStore({ dataDir, readOnly: true, config });
    try {
      return await fn(shared);
    } finally {
      await shared.close();
    }
  }
  const store = await openStore({ dataDir, readOnly: true, inMemoryWrites: true, config });
  try {
    await classifyOrphans(store, { now, maxSessionAgeMs: config.maxSessionAgeMs }, sessionsWithLiveBrowser(dataDir));
    return await fn(store);
  } finally {
    await store.close();
  }
}
