/**
 * The companion's Unix socket: owner-only (0600 socket in a 0700 directory), and every connection
 * must open with an `auth` frame carrying the token before anything else is read.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import { RestoryError } from '../../shared/errors.js';
import { SocketAuthSchema, type SocketAuth, type SocketAuthReply, versionMismatch } from '../../shared/protocol.js';
import { parseMessage } from '../../shared/validate.js';
import { FramedSocket } from './framed-socket.js';
import { tokensEqual } from './token.js';
import { debug } from '../debug.js';

const log = debug('socket');
const AUTH_TIMEOUT_MS = 5000;
/**
 * Until a connection has authenticated, its frames may be at most this big (an auth frame is
 * ~200 bytes), so a client without the token cannot make the companion buffer 64 MiB per connection.
 */
export const MAX_AUTH_FRAME = 16 * 1024;

export type ConnectionHandler = (conn: FramedSocket, auth: SocketAuth) => void;

export class SocketServer {
  private server: Server | null = null;
  private readonly connections = new Set<Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly token: string,
    private readonly onConnection: ConnectionHandler,
  ) {}

  async listen(): Promise<void> {
    mkdirSync(dirname(this.socketPath), { recursive: true, mode: 0o700 });
    chmodSync(dirname(this.socketPath), 0o700);
    // A socket file left by a companion that died: we hold the data-dir lock, so it is stale.
    rmSync(this.socketPath, { force: true });
    // Half-open: a peer that has sent everything (a native host whose browser went away) still gets
    // the replies to what it sent; each connection ends its side once those are out (connection.ts).
    const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.socketPath, 0o600);
  }

  private accept(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    const conn = new FramedSocket(socket, MAX_AUTH_FRAME, MAX_FRAME_SOCKET);
    const timer = setTimeout(() => reject(new RestoryError('unauthorized', 'no auth frame within 5 s')), AUTH_TIMEOUT_MS);
    let refused = false;
    const reject = (error: RestoryError) => {
      clearTimeout(timer);
      conn.off('frameError', onFrameError);
      if (refused) return;
      refused = true;
      log('refused connection:', error.message);
      conn.send({ type: 'error', error: error.toInfo() } satisfies SocketAuthReply);
      conn.close();
      setTimeout(() => conn.destroy(), 200).unref();
    };
    // Before auth, any undecodable frame (not JSON, oversize, truncated) ends the connection at once,
    // and so does a peer that hangs up without one.
    const onFrameError = (error: RestoryError) => reject(new RestoryError('unauthorized', `expected an auth frame: ${error.message}`));
    const onEnd = () => reject(new RestoryError('unauthorized', 'the connection ended before its auth frame'));
    conn.on('frameError', onFrameError);
    socket.once('end', onEnd);
    conn.once('message', (first) => {
      clearTimeout(timer);
      conn.off('frameError', onFrameError);
      socket.off('end', onEnd);
      let auth: SocketAuth;
      try {
        auth = parseMessage(SocketAuthSchema, first, 'auth frame');
      } catch (e) {
        return reject(e as RestoryError);
      }
      if (!tokensEqual(auth.token, this.token)) return reject(new RestoryError('unauthorized', 'wrong token'));
      if (auth.v !== PROTOCOL_VERSION) return reject(versionMismatch(auth.v));
      conn.setMaxIn(MAX_FRAME_SOCKET);
      conn.send({ type: 'auth-ok', v: PROTOCOL_VERSION } satisfies SocketAuthReply);
      this.onConnection(conn, auth);
    });
  }

  async close(): Promise<void> {
    // end() first: a reply just written (e.g. to the `close` that ended the last browser) still
    // reaches its client; whatever does not hang up by itself is cut shortly after.
    for (const s of this.connections) {
      s.end();
      setTimeout(() => s.destroy(), 500).unref();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.socketPath, { force: true });
  }
}
