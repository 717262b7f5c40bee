/** The running companion holds the store: sessions are listed and changed through its socket. */
import type { SessionState, SessionStatus } from '../../../shared/state.js';
import type { CompanionClient } from '../../socket/client.js';
import { countByState, storageLimited, type Backend, type BackendStatus, type ExportFormat } from '../backend.js';

// Imported by the two methods that read the store, not here: `list` and `status` beside a companion
// need nothing of it (CLI start-up, README).
const snapshotReads = () => import('./snapshot-reads.js');

export class CompanionBackend implements Backend {
  constructor(
    private readonly client: CompanionClient,
    private readonly dataDir: string,
  ) {}

  async sessionIds() {
    return (await this.list()).map((s) => s.id);
  }

  async list(state?: SessionStatus) {
    return (await this.client.request('list', { state })).sessions;
  }

  async close(sessionId: string) {
    await this.client.request('close', { sessionId });
  }

  async import(input: { name: string; state: SessionState }) {
    return (await this.client.request('import', input)).sessionId;
  }

  async status(): Promise<BackendStatus> {
    const s = await this.client.request('status', {});
    const sessions = await this.list();
    return { running: true, ...s, sessions: countByState(sessions), storageLimited: storageLimited(sessions) };
  }

  // Read from the store opened read-only beside the companion (safe, see snapshot-reads.ts; it sees
  // everything the companion has flushed) rather than with the socket's `snapshots`/`export`: an
  // export printed to stdout has no frame limit (64 MiB) this way.
  async snapshots(sessionId: string) {
    const { snapshotRows, withReadOnlyStore } = await snapshotReads();
    return withReadOnlyStore(this.dataDir, (store) => snapshotRows(store, sessionId));
  }

  async exportSnapshot(sessionId: string, snapshotId: number | undefined, format: ExportFormat) {
    const { exportSnapshot, withReadOnlyStore } = await snapshotReads();
    return withReadOnlyStore(this.dataDir, (store) => exportSnapshot(store, sessionId, snapshotId, format));
  }
}
