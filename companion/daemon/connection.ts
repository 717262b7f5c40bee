/**
 * One authenticated socket connection. A native host relays an extension's capture stream
 * (hello → welcome, events → ack once durable) and the popup's requests; a client (CLI, library)
 * sends requests only. Every frame is validated here, once, against shared/protocol.ts.
 */
import { PROTOCOL_VERSION } from '../../shared/constants.js';
import {
  ExtensionMessageSchema,
  Methods,
  RestoryError,
  parseMessage,
  versionMismatch,
  type ExtensionMessage,
  type MethodName,
  type Request,
  type SocketAuth,
} from '../../shared/protocol.js';
import type { FramedSocket } from './framed-socket.js';
import { debug } from '../debug.js';

const log = debug('connection');

export interface ConnectionHandlers {
  /** Which session a capture stream feeds; throws RestoryError when it may not. */
  bindCapture(auth: SocketAuth, hello: Extract<ExtensionMessage, { type: 'hello' }>): { sessionId: string; ackedSeq: number };
  /** Store the events; resolves with the newest durable seq once they are on disk. */
  captureEvents(sessionId: string, instanceId: string, batch: Extract<ExtensionMessage, { type: 'events' }>['batch']): Promise<number>;
  captureEnded(sessionId: string): void;
  request(method: MethodName, params: unknown, from: { sessionId: string | null }): Promise<unknown>;
}

export function serveConnection(conn: FramedSocket, auth: SocketAuth, handlers: ConnectionHandlers): void {
  let bound: { sessionId: string; instanceId: string } | null = null;
  // Events of one stream are stored strictly in order, even though storing is asynchronous.
  let eventChain: Promise<void> = Promise.resolve();

  const replyError = (error: RestoryError) => conn.send({ type: 'error', error: error.toInfo() });

  conn.on('frameError', (error, fatal) => {
    replyError(error);
    if (fatal) conn.close();
  });
  conn.on('close', () => {
    if (bound) handlers.captureEnded(bound.sessionId);
  });

  conn.on('message', (raw) => {
    let message: ExtensionMessage;
    try {
      message = parseMessage(ExtensionMessageSchema, raw, 'message');
    } catch (e) {
      // Answer a malformed request by id when there is one, so the caller's promise settles.
      const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
      if (typeof id === 'string') conn.send({ type: 'response', id, ok: false, error: (e as RestoryError).toInfo() });
      else replyError(e as RestoryError);
      return;
    }
    switch (message.type) {
      case 'hello': {
        if (auth.role !== 'host') return replyError(new RestoryError('unauthorized', 'only a native host may stream capture events'));
        if (message.v !== PROTOCOL_VERSION) return replyError(versionMismatch(message.v));
        try {
          const { sessionId, ackedSeq } = handlers.bindCapture(auth, message);
          bound = { sessionId, instanceId: message.instanceId };
          conn.send({ type: 'welcome', v: PROTOCOL_VERSION, sessionId, ackedSeq });
          log('capture bound', sessionId, 'acked', ackedSeq);
        } catch (e) {
          replyError(toRestoryError(e));
        }
        return;
      }
      case 'events': {
        if (!bound) return replyError(new RestoryError('invalid_state', 'events before hello'));
        const { sessionId, instanceId } = bound;
        const batch = message.batch;
        eventChain = eventChain.then(async () => {
          try {
            const seq = await handlers.captureEvents(sessionId, instanceId, batch);
            conn.send({ type: 'ack', seq });
          } catch (e) {
            // Not acknowledged: the extension keeps the events and sends them again.
            replyError(toRestoryError(e));
          }
        });
        return;
      }
      case 'request':
        void answer(conn, message, handlers, bound?.sessionId ?? auth.sessionId ?? null);
        return;
    }
  });
}

async function answer(conn: FramedSocket, req: Request, handlers: ConnectionHandlers, sessionId: string | null): Promise<void> {
  try {
    const params = parseMessage(Methods[req.method].params, req.params ?? {}, `${req.method} params`);
    const result = await handlers.request(req.method, params, { sessionId });
    conn.send({ type: 'response', id: req.id, ok: true, result });
  } catch (e) {
    conn.send({ type: 'response', id: req.id, ok: false, error: toRestoryError(e).toInfo() });
  }
}

export function toRestoryError(e: unknown): RestoryError {
  if (e instanceof RestoryError) return e;
  return new RestoryError('internal', e instanceof Error ? e.message : String(e), { cause: e });
}
