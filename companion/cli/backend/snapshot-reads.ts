/**
 * Snapshot listings and exports from a store: the companion's own (its `snapshots` and `export`
 * socket methods, the MCP server in process), or one opened read-only, which the CLI's backends use
 * and which is safe beside a running companion (no lock, nothing written; it replays the journal
 * the companion has flushed).
 */
import type { PlaywrightStorageState, RestoryExport } from '../../../shared/state.js';
import { currentTab } from '../../store/records.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import type { ExportFormat, SnapshotRow } from '../backend.js';

export async function withReadOnlyStore<T>(dataDir: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir, readOnly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function snapshotRows(store: Store, sessionId: string): Promise<SnapshotRow[]> {
  await store.requireSession(sessionId);
  // At most snapshotsKept rows, so loading each state for its counts is cheap enough.
  const rows: SnapshotRow[] = [];
  for (const info of await store.listSnapshots(sessionId)) {
    const { state } = await store.requireSnapshot(sessionId, info.id);
    rows.push({
      id: info.id,
      takenAt: info.takenAt,
      reason: info.reason,
      bytes: info.bytes,
      tabs: state.tabs.length,
      cookies: state.cookies.length,
      origins: state.origins.length,
      url: currentTab(state)?.url ?? null,
    });
  }
  return rows;
}

export async function exportSnapshot(
  store: Store,
  sessionId: string,
  snapshotId: number | undefined,
  format: ExportFormat,
): Promise<RestoryExport | PlaywrightStorageState> {
  const session = await store.requireSession(sessionId);
  const snapshot = await store.requireSnapshot(sessionId, snapshotId);
  if (format === 'playwright') {
    return {
      cookies: snapshot.state.cookies,
      // Partitioned iframe storage has no place in Playwright's format.
      origins: snapshot.state.origins
        .filter((o) => !o.topOrigin)
        .map((o) => ({ origin: o.origin, localStorage: o.localStorage, ...(o.indexedDB?.length ? { indexedDB: o.indexedDB } : {}) })),
    };
  }
  return {
    format: 'restory',
    version: 1,
    session: { id: session.id, name: session.name, createdAt: session.createdAt },
    snapshot: { id: snapshot.id, takenAt: snapshot.takenAt, reason: snapshot.reason },
    state: snapshot.state,
  };
}
