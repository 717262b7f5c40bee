/**
 * `restory migrate`: copy every session, with its snapshots (oldest first, their times and reasons
 * kept) and its live state, from one store to another — a data dir to a PostgreSQL store or back —
 * and verify each snapshot by its content hash read back from the target. The source is opened
 * read-only and left as it was; a session the target already has is skipped, not overwritten.
 * Snapshot ids are the target's own (both stores number snapshots globally).
 */
import { RestoryError } from '../../shared/errors.js';
import type { SessionStatus } from '../../shared/state.js';
import { isPostgresUrl } from './store-url.js';
import { contentHash } from './records.js';
import type { Store } from './store.js';

export interface MovedSession {
  id: string;
  name: string;
  /** Source snapshot id → target snapshot id, oldest first. */
  snapshots: { from: number; to: number; hash: string }[];
  skipped?: 'exists in the target';
}

/** A data dir path or a postgres:// URL. */
export async function openLocation(location: string, opts: { readOnly: boolean; clock?: () => number }): Promise<Store> {
  if (isPostgresUrl(location)) {
    const { PgStore } = await import('./pg-store.js');
    return PgStore.open({ url: location, readOnly: opts.readOnly, clock: opts.clock });
  }
  const { SqlJsStore } = await import('./sqljs-store.js');
  return SqlJsStore.open({ dataDir: location, readOnly: opts.readOnly, clock: opts.clock });
}

export async function moveSessions(from: string, to: string): Promise<MovedSession[]> {
  const source = await openLocation(from, { readOnly: true });
  // The target's clock is set to each copied record's own time, so that created and taken times survive.
  let now = Date.now();
  let target: Store;
  try {
    target = await openLocation(to, { readOnly: false, clock: () => now });
  } catch (e) {
    await source.close();
    throw e;
  }
  const moved: MovedSession[] = [];
  try {
    for (const record of [...(await source.listSessions())].reverse()) {
      if (await target.getSession(record.id)) {
        moved.push({ id: record.id, name: record.name, snapshots: [], skipped: 'exists in the target' });
        continue;
      }
      // A session still active in the source lost its companion to this move: it arrives recoverable.
      const state: SessionStatus = record.state === 'active' ? 'recoverable' : record.state;
      now = record.createdAt;
      const mark = record.storageLimit ? { storageLimit: record.storageLimit } : {};
      await target.createSession({ id: record.id, name: record.name, state, initial: await source.currentState(record.id), ...mark });
      const snapshots: MovedSession['snapshots'] = [];
      for (const info of [...(await source.listSnapshots(record.id))].reverse()) {
        const snap = await source.requireSnapshot(record.id, info.id);
        now = snap.takenAt;
        const saved = await target.saveSnapshot(record.id, snap.reason, { state: snap.state });
        if (!saved) continue; // equal to the one before it: the target keeps one
        const back = await target.requireSnapshot(record.id, saved.id);
        const hash = contentHash(back.state);
        if (hash !== snap.hash) {
          throw new RestoryError('storage_failed', `snapshot ${snap.id} of session ${record.id} reads back from the target with another hash (${hash} ≠ ${snap.hash}); stopped`);
        }
        snapshots.push({ from: snap.id, to: saved.id, hash });
      }
      await target.setState(record.id, state, record.lastError);
      await target.flush();
      moved.push({ id: record.id, name: record.name, snapshots });
    }
  } finally {
    await target.close();
    await source.close();
  }
  return moved;
}
