/**
 * Commands that read or change sessions work whether or not a companion is running: through its
 * socket when it is (it holds the store), or on the store directly when not — read-only for reads,
 * so `list` never writes a byte, and under the data-dir lock for changes.
 */
import type { SessionStatus, SessionSummary } from '../../shared/state.js';
import { CompanionClient } from '../client.js';
import { Store, toSummary } from '../store/store.js';

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
  const store = await Store.open({ dataDir, readOnly: mode === 'read' });
  try {
    return await fn({
      list: async (state) => store.listSessions(state ? { status: state } : undefined).map((r) => toSummary(r)),
      close: async (sessionId) => {
        store.requireSession(sessionId);
        store.setStatus(sessionId, 'closed', null);
        await store.flush();
      },
    });
  } finally {
    await store.close();
  }
}
