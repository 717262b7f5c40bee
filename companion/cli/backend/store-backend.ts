/**
 * No companion runs, so the CLI opens the store itself, once per call: read-only for reads (`list`
 * and `status` never write a byte), read-write under the data-dir lock for changes.
 */
import { RestoryError } from '../../../shared/errors.js';
import type { SessionState, SessionStatus, SessionSummary } from '../../../shared/state.js';
import { loadConfig } from '../../config.js';
import { importSession } from '../../session/import-export.js';
import { transition } from '../../session/lifecycle.js';
import { orphanVerdict } from '../../session/orphans.js';
import { liveBrowserEndpoints, withOrphansRecovered } from '../../session/orphan-preview.js';
import { BrowserRecords, endLeftover } from '../../session/browser-records.js';
import { dataPaths } from '../../data-dir.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { countByState, storageLimited, type Backend, type BackendStatus, type ExportFormat } from '../backend.js';
import { exportSnapshot, snapshotRows, withReadOnlyStore } from './snapshot-reads.js';

export class StoreBackend implements Backend {
  constructor(private readonly dataDir: string) {}

  sessionIds(): Promise<string[]> {
    return withReadOnlyStore(this.dataDir, async (store) => (await store.listSessions()).map((s) => s.id));
  }

  list(state?: SessionStatus): Promise<SessionSummary[]> {
    return withReadOnlyStore(this.dataDir, async (store) => {
      const sessions = await this.asShown(store);
      return sessions.filter((s) => !state || s.state === state);
    });
  }

  async close(sessionId: string): Promise<void> {
    await this.withWritableStore(async (store) => {
      if (await store.heldElsewhere?.(sessionId)) {
        throw new RestoryError('invalid_state', `session ${sessionId} is in use by another companion; close it there (or wait until its lease runs out)`);
      }
      await transition(store, sessionId, 'closed');
    });
    // A browser that outlived its companion belongs to the session: it ends with it.
    const records = new BrowserRecords(dataPaths(this.dataDir).browsers);
    const record = records.get(sessionId);
    if (record) await endLeftover(records, record);
  }

  import(input: { name: string; state: SessionState }): Promise<string> {
    return this.withWritableStore((store) => importSession(store, input));
  }

  async status(): Promise<BackendStatus> {
    const sessions = await this.list();
    return { running: false, dataDir: this.dataDir, sessions: countByState(sessions), storageLimited: storageLimited(sessions) };
  }

  // What an orphan captured after its newest snapshot is shown as the recovery snapshot the next
  // companion will take of it (session/orphan-preview.ts).
  snapshots(sessionId: string) {
    return withOrphansRecovered(this.dataDir, (store) => snapshotRows(store, sessionId));
  }

  exportSnapshot(sessionId: string, snapshotId: number | undefined, format: ExportFormat) {
    return withOrphansRecovered(this.dataDir, (store) => exportSnapshot(store, sessionId, snapshotId, format));
  }

  /**
   * An `active` session here lost its companion: show what the next companion will classify it as
   * (session/orphans.ts), without writing anything.
   */
  private async asShown(store: Store): Promise<SessionSummary[]> {
    const policy = { now: Date.now(), maxSessionAgeMs: loadConfig(this.dataDir).maxSessionAgeMs };
    // A session whose browser outlived its companion is still active: the next companion adopts it.
    const running = liveBrowserEndpoints(this.dataDir);
    const shown: SessionSummary[] = [];
    for (const record of await store.listSessions()) {
      const cdpEndpoint = running.get(record.id);
      if (record.state === 'active' && cdpEndpoint) shown.push({ ...record, cdpEndpoint });
      // Another companion (another machine, with the shared store) is capturing into it.
      else if (record.state === 'active' && (await store.heldElsewhere?.(record.id))) shown.push(record);
      else shown.push(record.state === 'active' ? { ...record, state: await orphanVerdict(store, record.id, policy) } : record);
    }
    return shown;
  }

  private async withWritableStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    const store = await openStore({ dataDir: this.dataDir });
    try {
      const result = await fn(store);
      await store.flush();
      return result;
    } finally {
      await store.close();
    }
  }
}
