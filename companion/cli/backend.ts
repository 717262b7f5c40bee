/**
 * What the session commands (list, close, import, status, snapshots, export) need, whether or not
 * a companion runs for the data dir. `withBackend` is the one place that decides which: a companion
 * that answers on its socket holds the store, so changes go through it; with none running, the CLI
 * opens the store itself (backend/store-backend.ts). Both show sessions the same way, so `list` and
 * `status` agree whichever answered.
 */
import type { SnapshotRow } from '../../shared/protocol.js';
import type { PlaywrightStorageState, RestoryExport, SessionState, SessionStatus, SessionSummary } from '../../shared/state.js';
import { CompanionClient } from '../socket/client.js';
import { idsNamedBy } from '../session/id-prefix.js';
import { UsageError } from './args.js';

export type ExportFormat = 'restory' | 'playwright';

/** One stored snapshot as `restory snapshots` shows it (the shape the socket's `snapshots` returns). */
export type { SnapshotRow } from '../../shared/protocol.js';

/** Sessions counted by the state `list` shows for them. */
export type StateCounts = Partial<Record<SessionStatus, number>>;

/** A session that reached its storage limit, as `status` names it. */
export interface StorageLimited {
  id: string;
  storageLimit: NonNullable<SessionSummary['storageLimit']>;
}

export type BackendStatus = (
  | { running: true; pid: number; dataDir: string; version: string; activeSessions: string[]; browsers: { sessionId: string; cdpEndpoint: string; pid: number }[]; sessions: StateCounts }
  | { running: false; dataDir: string; sessions: StateCounts }
) & { storageLimited: StorageLimited[] };

export interface Backend {
  /** Every session's id, whatever its state (for resolving id prefixes). */
  sessionIds(): Promise<string[]>;
  /** Newest activity first; without a companion an `active` session shows its orphan verdict. */
  list(state?: SessionStatus): Promise<SessionSummary[]>;
  /** Close a session (and its browser, if the companion runs it). */
  close(sessionId: string): Promise<void>;
  /** A new `recoverable` session from an imported state; returns its id. */
  import(input: { name: string; state: SessionState }): Promise<string>;
  status(): Promise<BackendStatus>;
  /** Newest first; an unknown session is an `unknown_session` error. */
  snapshots(sessionId: string): Promise<SnapshotRow[]>;
  /** The snapshot (newest when no id) in the given format. */
  exportSnapshot(sessionId: string, snapshotId: number | undefined, format: ExportFormat): Promise<RestoryExport | PlaywrightStorageState>;
}

/** Run `fn` against the companion of `dataDir` if one answers, else against its store. */
export async function withBackend<T>(dataDir: string, fn: (backend: Backend) => Promise<T>): Promise<T> {
  // Each backend is imported only when chosen: the store one pulls in browser records (and through
  // them Playwright), which a command answered by the companion never needs.
  const client = await CompanionClient.connect(dataDir);
  if (!client) {
    const { StoreBackend } = await import('./backend/store-backend.js');
    return fn(new StoreBackend(dataDir));
  }
  try {
    const { CompanionBackend } = await import('./backend/companion-backend.js');
    return await fn(new CompanionBackend(client, dataDir));
  } finally {
    client.close();
  }
}

/**
 * The full id for what the user typed: the id itself, or a prefix that exactly one session's id
 * starts with. A prefix several ids start with is a usage error listing them; one that matches
 * nothing is returned unchanged, so the command fails with the usual unknown-session error.
 */
export async function resolveSessionId(backend: Backend, idOrPrefix: string): Promise<string> {
  const candidates = idsNamedBy(await backend.sessionIds(), idOrPrefix);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1) {
    const shown = candidates.slice(0, 10).join(', ') + (candidates.length > 10 ? `, and ${candidates.length - 10} more` : '');
    throw new UsageError(`session id prefix "${idOrPrefix}" is ambiguous: it starts ${candidates.length} ids (${shown}); type more of it, see: restory list`);
  }
  return idOrPrefix;
}

/** resolveSessionId against whichever backend answers for `dataDir` (for `resume`). */
export function resolveSessionIdIn(dataDir: string, idOrPrefix: string): Promise<string> {
  return withBackend(dataDir, (backend) => resolveSessionId(backend, idOrPrefix));
}

export function storageLimited(sessions: SessionSummary[]): StorageLimited[] {
  return sessions.flatMap((s) => (s.storageLimit ? [{ id: s.id, storageLimit: s.storageLimit }] : []));
}

export function countByState(sessions: SessionSummary[]): StateCounts {
  const out: StateCounts = {};
  for (const s of sessions) out[s.state] = (out[s.state] ?? 0) + 1;
  return out;
}
