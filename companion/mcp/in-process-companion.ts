/**
 * The MCP server is the data dir's companion itself (no other ran when it started, or it took over
 * from one that stopped): the calls go straight to the Companion, and stopping the server stops it
 * as `restory start` does on Ctrl-C (final snapshots, browsers ended, sessions resumable).
 */
import type { Companion } from '../companion.js';
import { exportSnapshot, snapshotRows } from '../cli/backend/snapshot-reads.js';
import type { ExportFormat } from '../cli/backend.js';
import type { SessionStatus } from '../../shared/state.js';
import { GONE_WAIT_MS, type McpCompanion } from './mcp-companion.js';

export class InProcessCompanion implements McpCompanion {
  constructor(private readonly companion: Companion) {}

  get dataDir(): string {
    return this.companion.dataDir;
  }

  list(filter: { state?: SessionStatus } = {}) {
    return this.companion.list(filter);
  }

  async runningBrowsers() {
    return new Map(this.companion.runningSessions.map((r) => [r.sessionId, r.cdpEndpoint]));
  }

  async start(opts: { urls?: string[]; name?: string; headed?: boolean }) {
    const session = await this.companion.start(opts);
    // The browser tools open their own connection (browser-tools.ts).
    await session.detach();
    return { sessionId: session.sessionId, cdpEndpoint: session.cdpEndpoint };
  }

  async resume(sessionId: string, opts: { snapshotId?: number; headed?: boolean }) {
    const { session, report } = await this.companion.resume(sessionId, opts);
    // The restore's connection, with its routes and init scripts, is dropped as the CLI does.
    session.release();
    return { report, cdpEndpoint: session.cdpEndpoint };
  }

  close(sessionId: string) {
    return this.companion.close(sessionId);
  }

  snapshot(sessionId: string) {
    return this.companion.snapshot(sessionId);
  }

  snapshots(sessionId: string) {
    return snapshotRows(this.companion.store, sessionId);
  }

  exportSnapshot(sessionId: string, snapshotId: number | undefined, format: ExportFormat) {
    return exportSnapshot(this.companion.store, sessionId, snapshotId, format);
  }

  async waitGone(sessionId: string): Promise<void> {
    const running = this.companion.runningSessions.find((r) => r.sessionId === sessionId);
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running.ended, new Promise<void>((r) => (timer = setTimeout(r, GONE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  shutdown(): Promise<void> {
    return this.companion.shutdown();
  }
}
