/**
 * The companion's answers to socket requests (the CLI, the popup): one handler per method of the
 * shared `Methods` map, typed from it, so the compiler checks that every method has a handler and
 * that each returns its result's shape. Params are validated here, once, against the same schemas.
 */
import type { z } from 'zod';
import { Methods, type MethodName, type MethodParams, type MethodResult } from '../shared/protocol.js';
import { parseMessage } from '../shared/validate.js';
import { exportSnapshot, snapshotRows } from './cli/backend/snapshot-reads.js';
import type { Companion } from './companion.js';
import { packageVersion } from './project-root.js';

/** Who asked: the session of the browser whose popup sent the request, when there is one. */
export interface RequestOrigin {
  sessionId: string | null;
}

export type RpcHandlers = {
  [M in MethodName]: (params: MethodParams<M>, from: RequestOrigin) => Promise<MethodResult<M>>;
};

/** `Methods` seen per method, so that indexing it with a generic method name keeps the params' type. */
const paramSchemas: { [M in MethodName]: { params: z.ZodType<MethodParams<M>> } } = Methods;

export async function invoke<M extends MethodName>(handlers: RpcHandlers, method: M, rawParams: unknown, from: RequestOrigin): Promise<MethodResult<M>> {
  const params = parseMessage(paramSchemas[method].params, rawParams, `${method} params`);
  return handlers[method](params, from);
}

export function companionHandlers(companion: Companion): RpcHandlers {
  return {
    list: async ({ state }, from) => ({ sessions: await companion.list({ state }), currentSessionId: from.sessionId ?? undefined }),
    resume: async ({ sessionId, snapshotId, headed, cdpPort }) => {
      // Whoever asked over the socket (the CLI, the popup) drives the browser, if at all, through its
      // CDP endpoint: the companion keeps no Playwright connection to it.
      const { session, report } = await companion.resume(sessionId, { snapshotId, headed, cdpPort });
      session.release();
      return report;
    },
    start: async ({ urls, name, headed, cdpPort }) => {
      const session = await companion.start({ urls, name, headed, cdpPort });
      await session.detach(); // as for resume: the caller connects over CDP
      return { sessionId: session.sessionId, cdpEndpoint: session.cdpEndpoint };
    },
    snapshots: async ({ sessionId }) => ({ snapshots: await snapshotRows(companion.store, sessionId) }),
    export: ({ sessionId, snapshotId, format }) => exportSnapshot(companion.store, sessionId, snapshotId, format),
    close: async ({ sessionId }) => {
      await companion.close(sessionId);
      return {};
    },
    snapshot: async ({ sessionId }) => ({ snapshotId: await companion.snapshot(sessionId) }),
    import: async (input) => ({ sessionId: await companion.importState(input) }),
    status: async () => ({
      pid: process.pid,
      dataDir: companion.dataDir,
      version: packageVersion(),
      activeSessions: companion.runningSessions.map((s) => s.sessionId),
      browsers: companion.runningSessions.map((s) => ({ sessionId: s.sessionId, cdpEndpoint: s.cdpEndpoint, pid: s.browserPid })),
    }),
  };
}
