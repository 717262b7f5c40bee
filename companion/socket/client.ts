/**
 * A client of a running companion over its socket (CLI commands, tests). Requests are matched to
 * responses by id; every pending request is rejected when the connection drops.
 */
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import { MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import type { z } from 'zod';
import type { MethodName, MethodParams, MethodResult } from '../../shared/protocol.js';
import { CompanionMessageSchema, SocketAuthReplySchema, StatelessMethods, type Request, type SocketAuth } from '../../shared/socket-protocol.js';
import { RestoryError } from '../../shared/errors.js';
import { parseMessage } from '../../shared/validate.js';
import { FramedSocket } from './framed-socket.js';
import { dataPaths } from '../data-dir.js';
import { readToken } from './token.js';

interface Pending {
  method: MethodName;
  /** Started with the request, so requests go out in the order they were made. */
  result: Promise<z.ZodType>;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** Created before sending so a failure carries the caller's stack. */
  error: RestoryError;
}

export class CompanionClient {
  private readonly pending = new Map<string, Pending>();

  private constructor(private readonly conn: FramedSocket) {
    conn.on('message', (raw) => {
      let message;
      try {
        message = parseMessage(CompanionMessageSchema, raw, 'companion reply');
      } catch {
        return;
      }
      if (message.type !== 'response') return;
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      if (message.ok) {
        const result = message.result;
        p.result.then((schema) => p.resolve(parseMessage(schema, result, `${p.method} result`))).catch((e: Error) => p.reject(e));
      } else {
        p.error.message = message.error.message;
        Object.assign(p.error, { code: message.error.code });
        p.reject(p.error);
      }
    });
    conn.on('close', () => {
      for (const p of this.pending.values()) {
        p.error.message = 'the companion closed the connection';
        p.reject(p.error);
      }
      this.pending.clear();
    });
  }

  /** Connect to the companion of `dataDir`; null when none is running there. */
  static async connect(dataDir: string): Promise<CompanionClient | null> {
    const paths = dataPaths(dataDir);
    const token = readToken(paths.token);
    if (!token) return null;
    const socket = connect(paths.socket);
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (!ok) {
      socket.destroy();
      return null;
    }
    const conn = new FramedSocket(socket, MAX_FRAME_SOCKET, MAX_FRAME_SOCKET);
    conn.send({ type: 'auth', v: PROTOCOL_VERSION, token, role: 'client' } satisfies SocketAuth);
    await new Promise<void>((resolve, reject) => {
      conn.once('message', (m) => {
        const reply = SocketAuthReplySchema.safeParse(m).data;
        if (reply?.type === 'auth-ok') return resolve();
        const info = reply?.type === 'error' ? reply.error : null;
        reject(new RestoryError(info ? info.code : 'unauthorized', info ? info.message : 'the companion refused this client'));
      });
      conn.once('close', () => reject(new RestoryError('companion_unreachable', 'the companion closed the connection during auth')));
    });
    return new CompanionClient(conn);
  }

  request<M extends MethodName>(method: M, params: MethodParams<M>): Promise<MethodResult<M>> {
    const id = randomUUID();
    const error = new RestoryError('companion_unreachable', `${method} failed`);
    const result = resultSchema(method);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, result, resolve: resolve as (v: unknown) => void, reject, error });
      try {
        this.conn.send({ type: 'request', id, method, params } satisfies Request);
      } catch (e) {
        this.pending.delete(id);
        reject(e);
      }
    });
  }

  /** The connection is gone (closed by either side, or the companion died). */
  get isClosed(): boolean {
    return this.conn.isClosed;
  }

  /** Settles when the connection is gone. */
  whenClosed(): Promise<void> {
    if (this.conn.isClosed) return Promise.resolve();
    return new Promise((resolve) => this.conn.once('close', resolve));
  }

  close(): void {
    this.conn.close();
  }
}

/**
 * The schema `method`'s result is checked against. The full method table (protocol.ts) builds the
 * session state's schemas, which `list`, `status` and `close` beside a companion would otherwise
 * spend most of their time on: it is loaded only for a method whose messages carry state.
 */
async function resultSchema(method: MethodName): Promise<z.ZodType> {
  if (Object.hasOwn(StatelessMethods, method)) return StatelessMethods[method as keyof typeof StatelessMethods].result;
  return (await import('../../shared/protocol.js')).Methods[method].result;
}
