/**
 * One authenticated socket connection. A native host relays an extension's capture stream
 * (hello → welcome, events → ack once durable) and the popup's requests; a client (CLI, library)
 * sends requests only. Every frame is validated here, once, against shared/protocol.ts.
 */
import { PROTOCOL_VERSION } from '../../shared/constants.js';
import { ExtensionMessageSchema, versionMismatch, type CompanionMessage, type ExtensionMessage, type MethodName, type Request, type SocketAuth } from '../../shared/protocol.js';
import { RestoryError, type ErrorInfo } from '../../shared/errors.js';
import { SequencedEventSchema } from '../../shared/capture-events.js';
import { parseMessage } from '../../shared/validate.js';
import type { FramedSocket } from './framed-socket.js';
import { debug } from '../debug.js';

const log = debug('connection');

export interface ConnectionHandlers {
  /** Which session a capture stream feeds; throws RestoryError when it may not. */
  bindCapture(auth: SocketAuth, hello: Extract<ExtensionMessage, { type: 'hello' }>): Promise<{ sessionId: string; ackedSeq: number }>;
  /** Store the events; resolves with the newest durable seq once they are on disk, and whether to ask for a resync. */
  captureEvents(sessionId: string, instanceId: string, batch: Extract<ExtensionMessage, { type: 'events' }>['batch']): Promise<{ seq: number; resync: boolean }>;
  captureEnded(sessionId: string): void;
  request(method: MethodName, params: unknown, from: { sessionId: string | null }): Promise<unknown>;
}

export function serveConnection(conn: FramedSocket, auth: SocketAuth, handlers: ConnectionHandlers): void {
  let bound: { sessionId: string; instanceId: string } | null = null;
  // The hello and the events of one stream are handled strictly in order, though each is asynchronous.
  let eventChain: Promise<void> = Promise.resolve();
  const answering = new Set<Promise<void>>();
  // The peer has sent all it will (the server keeps connections half-open): answer that, then end.
  conn.socket.once('end', () => {
    void Promise.allSettled([eventChain, ...answering]).then(() => conn.close());
  });

  const replyError = (error: RestoryError) => sendReply(conn, { type: 'error', error: boundedInfo(error) });

  conn.on('frameError', (error, fatal) => {
    replyError(error);
    if (fatal) conn.close();
  });
  conn.on('close', () => {
    if (!bound) return;
    try {
      handlers.captureEnded(bound.sessionId);
    } catch (e) {
      // E.g. the disk is full and the status change cannot be journaled: a thrown error here would
      // be uncaught (an event listener) and take the companion, and every other stream, down.
      log('capture end of', bound.sessionId, 'not recorded:', toRestoryError(e).message);
    }
  });

  conn.on('message', (raw) => {
    let message: ExtensionMessage;
    try {
      message = parseExtensionMessage(raw);
    } catch (e) {
      // Answer a malformed request by id when there is one, so the caller's promise settles.
      const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
      if (typeof id === 'string') sendReply(conn, { type: 'response', id, ok: false, error: boundedInfo(toRestoryError(e)) });
      else replyError(toRestoryError(e));
      return;
    }
    switch (message.type) {
      case 'hello': {
        if (auth.role !== 'host') return replyError(new RestoryError('unauthorized', 'only a native host may stream capture events'));
        if (message.v !== PROTOCOL_VERSION) return replyError(versionMismatch(message.v));
        eventChain = eventChain.then(async () => {
          try {
            const { sessionId, ackedSeq } = await handlers.bindCapture(auth, message);
            bound = { sessionId, instanceId: message.instanceId };
            sendReply(conn, { type: 'welcome', v: PROTOCOL_VERSION, sessionId, ackedSeq });
            log('capture bound', sessionId, 'acked', ackedSeq);
          } catch (e) {
            replyError(toRestoryError(e));
          }
        });
        return;
      }
      case 'events': {
        const batch = message.batch;
        eventChain = eventChain.then(async () => {
          if (!bound) return replyError(new RestoryError('invalid_state', 'events before hello'));
          const { sessionId, instanceId } = bound;
          try {
            const { seq, resync } = await handlers.captureEvents(sessionId, instanceId, batch);
            log('ack', sessionId, instanceId, seq);
            sendReply(conn, { type: 'ack', seq });
            if (resync) sendReply(conn, { type: 'resync' });
          } catch (e) {
            // Not acknowledged: the extension keeps the events and sends them again.
            replyError(toRestoryError(e));
          }
        });
        return;
      }
      case 'request': {
        const answered = answer(conn, message, handlers, bound?.sessionId ?? auth.sessionId ?? null);
        answering.add(answered);
        void answered.finally(() => answering.delete(answered));
        return;
      }
    }
  });
}

async function answer(conn: FramedSocket, req: Request, handlers: ConnectionHandlers, sessionId: string | null): Promise<void> {
  try {
    // The params are validated by the handler (companion/rpc.ts), against the method's own schema.
    const result = await handlers.request(req.method, req.params ?? {}, { sessionId });
    sendReply(conn, { type: 'response', id: req.id, ok: true, result });
  } catch (e) {
    sendReply(conn, { type: 'response', id: req.id, ok: false, error: boundedInfo(toRestoryError(e)) });
  }
}

/** Error messages that travel back stay small (they may quote what the peer sent). */
const MAX_ERROR_MESSAGE = 8 * 1024;

function boundedInfo(error: RestoryError): ErrorInfo {
  const { code, message } = error.toInfo();
  if (message.length <= MAX_ERROR_MESSAGE) return { code, message };
  return { code, message: `${message.slice(0, MAX_ERROR_MESSAGE)}… (${message.length - MAX_ERROR_MESSAGE} more characters)` };
}

/**
 * Send a reply; one too large for a frame becomes an error reply instead of an exception that would
 * take the whole companion down with it.
 */
function sendReply(conn: FramedSocket, message: CompanionMessage): void {
  try {
    conn.send(message);
  } catch (e) {
    const error = boundedInfo(toRestoryError(e));
    log('reply not sent:', error.message);
    const instead: CompanionMessage =
      message.type === 'response' ? { type: 'response', id: message.id, ok: false, error } : { type: 'error', error };
    conn.send(instead);
  }
}

/**
 * The one validation of what a host or client sends. An events batch is checked event by event and
 * refused at the first bad one: validated whole, a batch of 300,000 bad events builds 900,000 zod
 * issues first (measured: 3.3 s and 700 MB) just to say that it is bad.
 */
function parseExtensionMessage(raw: unknown): ExtensionMessage {
  const envelope = raw as { type?: unknown; batch?: unknown } | null;
  if (typeof envelope !== 'object' || envelope === null || envelope.type !== 'events' || !Array.isArray(envelope.batch)) {
    return parseMessage(ExtensionMessageSchema, raw, 'message');
  }
  if (envelope.batch.length === 0) throw new RestoryError('bad_message', 'invalid message: an events batch must not be empty');
  const batch = envelope.batch.map((event, i) => parseMessage(SequencedEventSchema, event, `event ${i} of the batch`));
  return { type: 'events', batch };
}

export function toRestoryError(e: unknown): RestoryError {
  if (e instanceof RestoryError) return e;
  return new RestoryError('internal', e instanceof Error ? e.message : String(e), { cause: e });
}
