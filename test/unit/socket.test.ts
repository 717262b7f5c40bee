/**
 * The companion socket with real Unix sockets: token auth, request/response by id, validation
 * errors answered by id, and the socket path for data dirs too deep for a Unix socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import { FrameDecoder, encodeFrame } from '../../shared/frame-codec.js';
import { RestoryError } from '../../shared/errors.js';
import { SocketServer } from '../../companion/socket/server.js';
import { serveConnection, type ConnectionHandlers } from '../../companion/socket/connection.js';
import { loadOrCreateToken } from '../../companion/socket/token.js';
import { CompanionClient } from '../../companion/socket/client.js';
import { dataPaths, socketPath } from '../../companion/data-dir.js';
import { invoke, type RpcHandlers } from '../../companion/rpc.js';

const unexpected = async (): Promise<never> => {
  throw new RestoryError('internal', 'not used by these tests');
};
/** Requests go through the companion's real validation and dispatch (rpc.ts) to these stubs. */
const rpc: RpcHandlers = {
  list: unexpected,
  resume: unexpected,
  snapshot: unexpected,
  import: unexpected,
  start: unexpected,
  snapshots: unexpected,
  export: unexpected,
  close: async ({ sessionId }) => {
    throw new RestoryError('unknown_session', `no session with id "${sessionId}"`);
  },
  status: async () => ({ pid: 1, dataDir: '/x', version: 't', activeSessions: [], browsers: [] }),
};

const handlers: ConnectionHandlers = {
  bindCapture: async () => ({ sessionId: 's1', ackedSeq: 0 }),
  // A batch whose first event is a scroll to y = -1 stands for one the store could not fold in as sent.
  captureEvents: async (_id, _instance, batch) => ({ seq: batch[batch.length - 1].seq, resync: batch[0].event.kind === 'scroll' && batch[0].event.y === -1 }),
  captureEnded: () => {},
  request: (method, params, from) => invoke(rpc, method, params, from),
};

let server: SocketServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function serve(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'restory-sock-'));
  const token = loadOrCreateToken(dataPaths(dir).token);
  server = new SocketServer(dataPaths(dir).socket, token, (conn, auth) => serveConnection(conn, auth, handlers));
  await server.listen();
  return dir;
}

/** Send raw frames, collect replies until the server closes or `count` replies came. */
function raw(path: string, frames: unknown[], count: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const replies: unknown[] = [];
    const decoder = new FrameDecoder(MAX_FRAME_SOCKET);
    const socket = connect(path, () => frames.forEach((f) => socket.write(encodeFrame(f, MAX_FRAME_SOCKET))));
    socket.on('data', (chunk) => {
      for (const f of decoder.push(chunk)) if (f.ok) replies.push(f.message);
      if (replies.length >= count) socket.destroy();
    });
    socket.on('close', () => resolve(replies));
  });
}

describe('companion socket', () => {
  it('is owner-only and answers an authenticated client by request id', async () => {
    const dir = await serve();
    expect(statSync(dataPaths(dir).socket).mode & 0o777).toBe(0o600);
    const client = (await CompanionClient.connect(dir))!;
    await expect(client.request('status', {})).resolves.toMatchObject({ pid: 1 });
    await expect(client.request('close', { sessionId: 'nope' })).rejects.toMatchObject({
      code: 'unknown_session',
      message: 'no session with id "nope"',
    });
    client.close();
  });

  it('refuses a wrong token and closes the connection', async () => {
    const dir = await serve();
    const replies = await raw(dataPaths(dir).socket, [{ type: 'auth', v: PROTOCOL_VERSION, token: 'x'.repeat(64), role: 'client' }], 5);
    expect(replies).toEqual([{ type: 'error', error: { code: 'unauthorized', message: 'wrong token' } }]);
  });

  it('refuses anything before auth', async () => {
    const dir = await serve();
    const replies = await raw(dataPaths(dir).socket, [{ type: 'request', id: '1', method: 'status', params: {} }], 5);
    expect(replies).toMatchObject([{ type: 'error', error: { code: 'bad_message' } }]);
  });

  it('answers schema-invalid requests by id and keeps the connection', async () => {
    const dir = await serve();
    const token = loadOrCreateToken(dataPaths(dir).token);
    const replies = await raw(
      dataPaths(dir).socket,
      [
        { type: 'auth', v: PROTOCOL_VERSION, token, role: 'client' },
        { type: 'request', id: 'a', method: 'resume', params: { sessionId: 42 } },
        { type: 'bogus' },
        { type: 'request', id: 'b', method: 'status', params: {} },
      ],
      4,
    );
    expect(replies[0]).toEqual({ type: 'auth-ok', v: PROTOCOL_VERSION });
    // Requests are answered asynchronously, by id; the bogus frame's error may come before them.
    const byId = (id: string) => replies.find((r) => (r as { id?: string }).id === id);
    expect(byId('a')).toMatchObject({ type: 'response', id: 'a', ok: false, error: { code: 'bad_message' } });
    expect(replies.filter((r) => (r as { type?: string }).type === 'error')).toMatchObject([{ type: 'error', error: { code: 'bad_message' } }]);
    expect(byId('b')).toMatchObject({ type: 'response', id: 'b', ok: true });
  });

  it('a client refuses capture messages: only a host may stream events', async () => {
    const dir = await serve();
    const token = loadOrCreateToken(dataPaths(dir).token);
    const replies = await raw(
      dataPaths(dir).socket,
      [
        { type: 'auth', v: PROTOCOL_VERSION, token, role: 'client' },
        { type: 'hello', v: PROTOCOL_VERSION, instanceId: 'abcdefgh12', extensionVersion: '1' },
      ],
      2,
    );
    expect(replies[1]).toMatchObject({ type: 'error', error: { code: 'unauthorized' } });
  });

  it('a host is acknowledged, and asked for a resync after a batch the store could not fold in as sent', async () => {
    const dir = await serve();
    const token = loadOrCreateToken(dataPaths(dir).token);
    const batch = (seq: number, y: number) => ({ type: 'events', batch: [{ seq, at: 1, event: { kind: 'scroll', tabId: 1, x: 0, y } }] });
    const replies = await raw(
      dataPaths(dir).socket,
      [
        { type: 'auth', v: PROTOCOL_VERSION, token, role: 'host' },
        { type: 'hello', v: PROTOCOL_VERSION, instanceId: 'abcdefgh12', extensionVersion: '1' },
        batch(1, 5),
        batch(2, -1),
      ],
      5,
    );
    expect(replies.slice(1).map((r) => (r as { type: string }).type)).toEqual(['welcome', 'ack', 'ack', 'resync']);
  });

  it('puts the socket of a very deep data dir in a per-user temp folder', () => {
    const deep = '/tmp/' + 'd'.repeat(120);
    const path = socketPath(deep);
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(100);
    expect(path).toBe(socketPath(deep + '/')); // the same dir gives the same path
    expect(socketPath('/tmp/short')).toBe('/tmp/short/companion.sock');
  });
});
