/**
 * The data dir's companion runs in another process (a `restory start` in the foreground, another
 * `restory mcp`…): every call is a request on its socket (companion/socket/client.ts), validated on
 * both ends against shared/protocol.ts. That companion launches, watches and ends the browsers; the
 * MCP server reaches each over its CDP endpoint, as it does in process.
 *
 * What differs from in process:
 *  - A browser's end is learnt by asking (waitGone polls `list`), not from the companion's own
 *    watch; the companion still records it first, so a resume finds the session `recoverable`.
 *  - A foreground `restory start` stops once its last browser has ended: when that browser was the
 *    MCP server's, the companion is gone by the next call and companion-route.ts takes over.
 *  - Stopping the MCP server leaves the sessions it started or resumed running in that companion
 *    (they are its browsers); it only hangs up.
 *  - Exports come over the socket, so one larger than a socket frame (64 MiB) is refused with an
 *    error (in process there is no such limit).
 */
import { RestoryError } from '../../shared/errors.js';
import type { SessionStatus } from '../../shared/state.js';
import type { ExportFormat } from '../cli/backend.js';
import type { CompanionClient } from '../socket/client.js';
import { GONE_WAIT_MS, type McpCompanion } from './mcp-companion.js';

/** How often waitGone asks; the companion's own watch looks every 250 ms. */
const GONE_POLL_MS = 100;

export class RemoteCompanion implements McpCompanion {
  constructor(
    private readonly client: CompanionClient,
    readonly dataDir: string,
    /** The running companion's pid (from `status`), for the notices. */
    readonly pid: number,
  ) {}

  get isClosed(): boolean {
    return this.client.isClosed;
  }

  whenClosed(): Promise<void> {
    return this.client.whenClosed();
  }

  async list(filter: { state?: SessionStatus } = {}) {
    return (await this.client.request('list', { state: filter.state })).sessions;
  }

  async runningBrowsers() {
    const { browsers } = await this.client.request('status', {});
    return new Map(browsers.map((b) => [b.sessionId, b.cdpEndpoint]));
  }

  start(opts: { urls?: string[]; name?: string; headed?: boolean }) {
    return this.client.request('start', opts);
  }

  async resume(sessionId: string, opts: { snapshotId?: number; headed?: boolean }) {
    const report = await this.client.request('resume', { sessionId, ...opts });
    // The companion's resume always reports where the browser is; the schema keeps it optional
    // for the popup, which has no use for it.
    if (!report.cdpEndpoint) throw new RestoryError('internal', `the companion resumed session ${sessionId} but did not say where its browser is`);
    return { report, cdpEndpoint: report.cdpEndpoint };
  }

  async close(sessionId: string) {
    await this.client.request('close', { sessionId });
  }

  async snapshot(sessionId: string) {
    return (await this.client.request('snapshot', { sessionId })).snapshotId;
  }

  async snapshots(sessionId: string) {
    return (await this.client.request('snapshots', { sessionId })).snapshots;
  }

  exportSnapshot(sessionId: string, snapshotId: number | undefined, format: ExportFormat) {
    return this.client.request('export', { sessionId, snapshotId, format });
  }

  async waitGone(sessionId: string): Promise<void> {
    const deadline = Date.now() + GONE_WAIT_MS;
    while (Date.now() < deadline && !this.client.isClosed) {
      try {
        const session = (await this.list()).find((s) => s.id === sessionId);
        if (!session || (session.state !== 'active' && !session.cdpEndpoint)) return;
      } catch {
        // The companion went away meanwhile (a foreground `start` whose last browser this was):
        // it recorded the end before it stopped, and the next call takes over.
        return;
      }
      await new Promise((r) => setTimeout(r, GONE_POLL_MS));
    }
  }

  async shutdown(): Promise<void> {
    this.client.close();
  }
}
