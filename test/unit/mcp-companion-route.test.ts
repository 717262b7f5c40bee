/**
 * companion/mcp/companion-route.ts: `restory mcp` works through the data dir's running companion
 * (here a socket answering through rpc.ts's validation to stubs), and when that one goes away it
 * takes over as the companion (a real Companion in this process, real store, no browser).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RestoryError } from '../../shared/errors.js';
import { dataPaths } from '../../companion/data-dir.js';
import { CompanionRoute } from '../../companion/mcp/companion-route.js';
import { invoke, type RpcHandlers } from '../../companion/rpc.js';
import { serveConnection, type ConnectionHandlers } from '../../companion/socket/connection.js';
import { SocketServer } from '../../companion/socket/server.js';
import { loadOrCreateToken } from '../../companion/socket/token.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dirs.js';

const status: RpcHandlers['status'] = async () => ({ pid: 4242, dataDir: '/x', version: 't', activeSessions: [], browsers: [] });

let route: CompanionRoute | null = null;
afterEach(async () => {
  await route?.shutdown();
  route = null;
  removeTempDirs();
});

/** A running companion's socket in a fresh data dir, answering through `handlers`. */
async function runningCompanion(handlers: (server: SocketServer) => Partial<RpcHandlers>): Promise<string> {
  const dir = tempDir('restory-route-');
  const server: SocketServer = new SocketServer(dataPaths(dir).socket, loadOrCreateToken(dataPaths(dir).token), (conn, auth) => serveConnection(conn, auth, connection));
  const rpc = { status, ...handlers(server) } as RpcHandlers;
  const connection: ConnectionHandlers = {
    bindCapture: async () => ({ sessionId: 's1', ackedSeq: 0 }),
    captureEvents: async () => ({ seq: 0, resync: false }),
    captureEnded: () => {},
    request: (method, params, from) => invoke(rpc, method, params, from),
  };
  await server.listen();
  return dir;
}

describe('companion route of restory mcp', () => {
  it('a companion answering on the socket: client mode; one that refuses as stopping: the call runs again on this process, now the companion', async () => {
    const dir = await runningCompanion((server) => ({
      list: async () => {
        setTimeout(() => void server.close(), 20);
        throw new RestoryError('companion_stopping', 'the companion is stopping; list was not done');
      },
    }));
    const notices: string[] = [];
    route = await CompanionRoute.open(dir, (m) => notices.push(m));
    expect(route.route).toEqual({ kind: 'client', pid: 4242 });

    await expect(route.list()).resolves.toEqual([]);
    expect(route.route).toEqual({ kind: 'in-process' });
    const line = `restory: the companion of ${dir} (pid 4242) stopped; restory mcp took over as its companion (browsers still running are adopted)`;
    expect(route.takeNotices()).toEqual([line]);
    expect(route.takeNotices()).toEqual([]); // told once
    expect(notices).toContain(line);
  });

  it('the companion gone in the middle of a call: a start fails with a clear error (it may have been done), and the next call takes over', async () => {
    const dir = await runningCompanion((server) => ({
      start: () => {
        void server.close();
        return new Promise<never>(() => {});
      },
    }));
    route = await CompanionRoute.open(dir, () => {});
    await expect(route.start({ name: 'n' })).rejects.toMatchObject({
      code: 'companion_unreachable',
      message: `the companion of ${dir} (pid 4242) went away during this call, which may or may not have been done; the next call takes over as the companion`,
    });
    await expect(route.runningBrowsers()).resolves.toEqual(new Map());
    expect(route.route).toEqual({ kind: 'in-process' });
  });

  it('the companion gone in the middle of a read: the read runs again on this process, now the companion', async () => {
    const dir = await runningCompanion((server) => ({
      list: () => {
        void server.close();
        return new Promise<never>(() => {});
      },
    }));
    route = await CompanionRoute.open(dir, () => {});
    await expect(route.list()).resolves.toEqual([]);
    expect(route.route).toEqual({ kind: 'in-process' });
    expect(route.takeNotices()).toHaveLength(1);
  });

  it('no companion running: this process is the companion from the start', async () => {
    route = await CompanionRoute.open(tempDir('restory-route-'), () => {});
    expect(route.route).toEqual({ kind: 'in-process' });
    await expect(route.list()).resolves.toEqual([]);
  });
});
