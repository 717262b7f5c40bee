/**
 * The native host is a dumb, stateless relay: frames from Chromium on stdin go to the companion's
 * socket and frames from the socket go to stdout. All state lives in the companion. It exits when
 * either side closes, and Chromium's port disconnect tells the extension to reconnect later.
 */
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  EXTENSION_ORIGIN,
  MAX_FRAME_FROM_BROWSER,
  MAX_FRAME_SOCKET,
  MAX_FRAME_TO_BROWSER,
  PROTOCOL_VERSION,
} from '../../shared/constants.js';
import { FrameDecoder, encodeFrame } from '../../shared/frame-codec.js';
import { RestoryError, type ErrorInfo } from '../../shared/errors.js';
import { SocketAuthReplySchema, type CompanionMessage, type SocketAuth } from '../../shared/socket-protocol.js';
import { FramedSocket } from '../socket/framed-socket.js';
import { socketAccepts } from '../socket/probe.js';
import { debug } from '../debug.js';

const log = debug('host');

export interface RelayOptions {
  /** argv[1] as Chromium passes it: the calling extension's origin. */
  callerOrigin: string | undefined;
  socketPath: string;
  token: string | null;
  sessionId?: string;
  /** Epoch ms until which a companion socket that is not up yet is waited for (ENV.companionDueBy). */
  companionDueBy?: number;
  stdin: Readable;
  stdout: Writable;
}

/** Resolves with the exit code once either side has closed. */
export function runRelay(opts: RelayOptions): Promise<number> {
  const toBrowser = (message: unknown) => {
    try {
      opts.stdout.write(encodeFrame(message, MAX_FRAME_TO_BROWSER));
    } catch (e) {
      // A companion reply too large for Chromium: tell the extension instead of dropping silently.
      const error = e instanceof RestoryError ? e.toInfo() : { code: 'internal' as const, message: String(e) };
      opts.stdout.write(encodeFrame({ type: 'error', error } satisfies CompanionMessage, MAX_FRAME_TO_BROWSER));
    }
  };
  const fail = (error: ErrorInfo) => toBrowser({ type: 'error', error } satisfies CompanionMessage);

  if (opts.callerOrigin !== EXTENSION_ORIGIN) {
    // Only our own extension may use the host (allowed_origins says so too; this is the second lock).
    fail({ code: 'unauthorized', message: `origin ${opts.callerOrigin ?? '(none)'} may not use the restory host` });
    return Promise.resolve(1);
  }
  if (!opts.token) {
    fail({
      code: 'companion_unreachable',
      message: 'restory companion is not set up for this user (no token). Start it with: restory start',
    });
    return Promise.resolve(2);
  }

  // Set when the browser was started before its companion (session-browser-spawn.ts): the socket is
  // not up yet, so wait for it rather than exit and be started again by the extension's retry.
  const ready = opts.companionDueBy ? socketAccepting(opts.socketPath, opts.companionDueBy) : Promise.resolve();
  return ready.then(() => relay(opts, toBrowser, fail));
}

/** Resolves once `path` accepts a connection or `dueBy` (epoch ms) has passed. */
async function socketAccepting(path: string, dueBy: number): Promise<void> {
  while (Date.now() < dueBy && !(await socketAccepts(path))) await new Promise((r) => setTimeout(r, 100));
}

function relay(opts: RelayOptions, toBrowser: (message: unknown) => void, fail: (error: ErrorInfo) => void): Promise<number> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      resolve(code);
    };
    const socket = connect(opts.socketPath);
    const companion = new FramedSocket(socket, MAX_FRAME_SOCKET, MAX_FRAME_SOCKET);
    const pendingToCompanion: unknown[] = [];
    let connected = false;

    socket.on('connect', () => {
      connected = true;
      const auth: SocketAuth = {
        type: 'auth',
        v: PROTOCOL_VERSION,
        token: opts.token!,
        role: 'host',
        origin: opts.callerOrigin,
        ...(opts.sessionId ? { sessionId: opts.sessionId } : {}),
      };
      companion.send(auth);
      for (const m of pendingToCompanion.splice(0)) companion.send(m);
      log('connected to', opts.socketPath);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (!connected) {
        fail({
          code: 'companion_unreachable',
          message: `restory companion is not running (${e.code ?? e.message} at ${opts.socketPath}). Start it with: restory start`,
        });
      }
    });
    companion.on('message', (m) => {
      // The auth reply is for the host alone; everything else is relayed as it is.
      if (SocketAuthReplySchema.safeParse(m).data?.type === 'auth-ok') return;
      toBrowser(m);
    });
    companion.on('frameError', (error) => fail(error.toInfo()));
    companion.on('close', () => {
      opts.stdout.end?.();
      finish(connected ? 0 : 3);
    });

    const decoder = new FrameDecoder(MAX_FRAME_FROM_BROWSER);
    opts.stdin.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (!frame.ok) {
          fail(frame.error.toInfo());
          continue;
        }
        if (connected) companion.send(frame.message);
        else pendingToCompanion.push(frame.message);
      }
      if (decoder.failed) {
        companion.destroy();
        finish(4);
      }
    });
    opts.stdin.on('end', () => {
      // Chromium closed the port (extension disconnected or browser exiting). End our side
      // gracefully so frames still in the socket buffer reach the companion, then go.
      companion.close();
      setTimeout(() => finish(0), 2000).unref();
    });
  });
}
