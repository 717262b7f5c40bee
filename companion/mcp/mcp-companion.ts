/**
 * What the MCP server needs of the data dir's companion, whichever process that is: this one
 * (in-process-companion.ts, when no companion ran on the data dir) or one already running, over its
 * socket (remote-companion.ts, e.g. beside a `restory start` in the foreground). companion-route.ts
 * picks one at start-up and takes over when a running one goes away.
 *
 * Either way the companion launches and watches the browsers; the MCP server drives them only
 * through their CDP endpoints (browser-tools.ts), so the browser tools work the same on both.
 */
import type { ResumeReport, SnapshotRow } from '../../shared/protocol.js';
import type { PlaywrightStorageState, RestoryExport, SessionStatus, SessionSummary } from '../../shared/state.js';
import type { ExportFormat } from '../cli/backend.js';

export interface McpCompanion {
  readonly dataDir: string;
  /** Newest activity first; a session whose browser runs carries its cdpEndpoint. */
  list(filter?: { state?: SessionStatus }): Promise<SessionSummary[]>;
  /** The browsers the companion runs now: session id → CDP endpoint. */
  runningBrowsers(): Promise<Map<string, string>>;
  start(opts: { urls?: string[]; name?: string; headed?: boolean }): Promise<{ sessionId: string; cdpEndpoint: string }>;
  /** Relaunch a session's browser with a snapshot restored; nobody stays attached to it but over CDP. */
  resume(sessionId: string, opts: { snapshotId?: number; headed?: boolean }): Promise<{ report: ResumeReport; cdpEndpoint: string }>;
  close(sessionId: string): Promise<void>;
  /** A snapshot now; null when nothing changed since the newest. */
  snapshot(sessionId: string): Promise<number | null>;
  snapshots(sessionId: string): Promise<SnapshotRow[]>;
  /** Holds cookie and storage values: for a file, never for a tool result. */
  exportSnapshot(sessionId: string, snapshotId: number | undefined, format: ExportFormat): Promise<RestoryExport | PlaywrightStorageState>;
  /**
   * Playwright saw the session's browser disconnect: settle once the companion has recorded its end
   * (the session is no longer `active`), or after a time limit.
   */
  waitGone(sessionId: string): Promise<void>;
  /** The MCP server stops: what this process owns of the companion ends with it. */
  shutdown(): Promise<void>;
}

/** How long a browser that Playwright saw disconnect may take to be noticed gone by the companion (its watch polls every 250 ms). */
export const GONE_WAIT_MS = 15_000;
