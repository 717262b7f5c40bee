/**
 * Commands that read or change sessions work whether or not a companion is running: through its
 * socket when it is (it holds the store), or on the store directly when not — read-only for reads,
 * so `list` never writes a byte, and under the data-dir lock for changes.
 */
import type { SessionStatus, SessionSummary } from '../../shared/state.js';
import { CompanionClient } from '../socket/client.js';
import { SqlJsStore } from '../store/sqljs-store.js';
import { loadConfig } from '../config.js';
import { orphanVerdict } from '../session/orphans.js';
import { transition } from '../session/lifecycle.js';

export interface SessionSource {
  list(state?: SessionStatus): Promise<SessionSummary[]>;
  close(sessionId: string): Promise<void>;
}

export async function withSessions<T>(
  dataDir: string,
  fn: (source: SessionSource) => Promise<T>,
  mode: 'read' | 'write' = 'read',
): Promise<T> {
  const client = await CompanionClient.connect(dataDir);
  if (client) {
    try {
      return await fn({
        list: async (state) => (await client.request('list', { state })).sessions,
        close: async (sessionId) => {
          await client.request('close', { sessionId });
        },
      });
    } finally {
      client.close();
    }
  }
  const store = await SqlJsStore.open({ dataDir, readOnly: mode === 'read' });
  try {
    return await fn({
      list: async (state) => {
        // No companion runs, so an `active` session is an orphan: show what the next companion
        // will classify it as, without writing anything.
        const config = loadConfig(dataDir);
        const policy = { now: Date.now(), maxSessionAgeMs: config.maxSessionAgeMs };
        const sessions = await Promise.all(
          store.listSessions().map(async (r) => (r.state === 'active' ? { ...r, state: await orphanVerdict(store, r.id, policy) } : r)),
        );
        return sessions.filter((s) => !state || s.state === state);
      },
      close: async (sessionId) => {
        await transition(store, sessionId, 'closed');
        await store.flush();
      },
    });
  } finally {
    await store.close();
  }
}
