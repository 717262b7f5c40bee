/**
 * The socket methods `restory mcp` uses beside a running companion — start, snapshots, export —
 * over a real socket: params are validated by the companion before a handler runs, and results by
 * the client before a caller sees them (shared/protocol.ts, both ends).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RestoryError } from '../../shared/errors.js';
import type { MethodParams, MethodResult } from '../../shared/protocol.js';
import { emptySessionState } from '../../shared/state.js';
import { dataPaths } from '../../companion/data-dir.js';
import { invoke, type RpcHandlers } from '../../companion/rpc.js';
import { CompanionClient } from '../../companion/socket/client.js';
import { serveConnection, type ConnectionHandlers } from '../../companion/socket/connection.js';
import { SocketServer } from '../../companion/socket/server.js';
import { loadOrCreateToken } from '../../companion/socket/token.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dirs.js';

const cookie = { name: 'sid', value: 'secret', domain: '127.0.0.1', path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Lax' as const };

let server: SocketServer | null = null;
let client: CompanionClient | null = null;
afterEach(async () => {
  client?.close();
  await server?.close();
  server = client = null;
  removeTempDirs();
});

/** A companion socket whose requests go through rpc.ts's validation to `handlers`. */
async function serve(handlers: Partial<RpcHandlers>): Promise<CompanionClient> {
  const dir = tempDir('restory-rpc-');
  const token = loadOrCreateToken(dataPaths(dir).token);
  const connection: ConnectionHandlers = {
    bindCapture: async () => ({ sessionId: 's1', ackedSeq: 0 }),
    captureEvents: async () => ({ seq: 0, resync: false }),
    captureEnded: () => {},
    request: (method, params, from) => invoke(handlers as RpcHandlers, method, params, from),
  };
  server = new SocketServer(dataPaths(dir).socket, token, (conn, auth) => serveConnection(conn, auth, connection));
  await server.listen();
  client = await CompanionClient.connect(dir);
  return client!;
}

describe('socket methods for restory mcp', () => {
  it('start: a URL that is not whole is refused before the companion launches anything', async () => {
    const start = vi.fn(async (_p: MethodParams<'start'>): Promise<MethodResult<'start'>> => ({ sessionId: 's2', cdpEndpoint: 'http://127.0.0.1:9' }));
    const c = await serve({ start });
    await expect(c.request('start', { urls: ['example.com'] })).rejects.toMatchObject({
      code: 'bad_message',
      message: expect.stringMatching(/invalid start params: ✖ a whole URL, e.g. https:\/\/example.com\n  → at urls\[0\]/),
    });
    expect(start).not.toHaveBeenCalled();
    await expect(c.request('start', { urls: ['about:blank', 'https://example.com/x'], name: 'n', headed: false })).resolves.toEqual({ sessionId: 's2', cdpEndpoint: 'http://127.0.0.1:9' });
    expect(start).toHaveBeenCalledWith({ urls: ['about:blank', 'https://example.com/x'], name: 'n', headed: false }, { sessionId: null });
  });

  it('snapshots: rows pass; a row of the wrong shape is refused by the client', async () => {
    const row = { id: 3, takenAt: 1, reason: 'manual' as const, bytes: 10, tabs: 1, cookies: 2, origins: 1, url: 'https://example.com/' };
    let rows: unknown[] = [row];
    const c = await serve({ snapshots: async () => ({ snapshots: rows as MethodResult<'snapshots'>['snapshots'] }) });
    await expect(c.request('snapshots', { sessionId: 's1' })).resolves.toEqual({ snapshots: [row] });
    rows = [{ ...row, reason: 'whenever', cookies: -1 }];
    await expect(c.request('snapshots', { sessionId: 's1' })).rejects.toMatchObject({ code: 'bad_message', message: expect.stringContaining('invalid snapshots result') });
    await expect(c.request('snapshots', { sessionId: 42 } as unknown as MethodParams<'snapshots'>)).rejects.toMatchObject({ code: 'bad_message', message: expect.stringContaining('invalid snapshots params') });
  });

  it('export: a storageState or a restory export passes; an unknown format, or a cookie without its value, does not', async () => {
    let out: unknown = { cookies: [cookie], origins: [{ origin: 'http://127.0.0.1', localStorage: [{ name: 'k', value: 'v' }] }] };
    const exported = vi.fn(async () => out as MethodResult<'export'>);
    const c = await serve({ export: exported });
    await expect(c.request('export', { sessionId: 's1', format: 'playwright' })).resolves.toEqual(out);
    expect(exported).toHaveBeenCalledWith({ sessionId: 's1', format: 'playwright' }, { sessionId: null });

    out = {
      format: 'restory',
      version: 1,
      session: { id: 's1', name: 'n', createdAt: 1 },
      snapshot: { id: 2, takenAt: 2, reason: 'shutdown' },
      state: { ...emptySessionState(5), cookies: [cookie] },
    };
    await expect(c.request('export', { sessionId: 's1', snapshotId: 2, format: 'restory' })).resolves.toMatchObject({ format: 'restory', snapshot: { id: 2 } });

    await expect(c.request('export', { sessionId: 's1', format: 'har' } as unknown as MethodParams<'export'>)).rejects.toMatchObject({ code: 'bad_message', message: expect.stringContaining('invalid export params') });
    out = { cookies: [{ ...cookie, value: undefined }], origins: [] };
    await expect(c.request('export', { sessionId: 's1', format: 'playwright' })).rejects.toMatchObject({ code: 'bad_message', message: expect.stringContaining('invalid export result') });
  });

  it('an unknown session crosses the socket with its code', async () => {
    const c = await serve({
      export: async ({ sessionId }) => {
        throw new RestoryError('unknown_session', `no session with id "${sessionId}"`);
      },
    });
    await expect(c.request('export', { sessionId: 'nope', format: 'restory' })).rejects.toMatchObject({ code: 'unknown_session', message: 'no session with id "nope"' });
  });
});
