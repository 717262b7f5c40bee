/**
 * The companion's socket lets in only who knows the token: a real companion (Companion.open), raw
 * net connections that speak the framing but not the secret, and the real client with a bad token.
 */
import { connect } from 'node:net';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Companion } from '../../companion/companion.js';
import { CompanionClient } from '../../companion/socket/client.js';
import { dataPaths } from '../../companion/data-dir.js';
import { EXTENSION_ORIGIN, MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import { FrameDecoder, encodeFrame } from '../../shared/frame-codec.js';
import { setLocal } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

interface RawResult {
  frames: unknown[];
  /** The server closed the connection. */
  closed: boolean;
  ms: number;
}

/** Send `payload` on a fresh connection; collect the server's frames until it closes or `waitMs` passes. */
function rawExchange(socketPath: string, payload: Buffer, waitMs = 2000): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(socketPath);
    const decoder = new FrameDecoder(MAX_FRAME_SOCKET);
    const frames: unknown[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ frames, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('connect', () => payload.length > 0 && socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) if (f.ok) frames.push(f.message);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {});
  });
}

const frame = (m: unknown) => encodeFrame(m, MAX_FRAME_SOCKET);
const auth = (token: string, role: 'host' | 'client' = 'client') => frame({ type: 'auth', v: PROTOCOL_VERSION, token, role, origin: EXTENSION_ORIGIN });
const statusRequest = frame({ type: 'request', id: 'r1', method: 'status', params: {} });
const hello = frame({ type: 'hello', v: PROTOCOL_VERSION, instanceId: 'intruder-instance', extensionVersion: '0.1.0' });
const events = frame({ type: 'events', batch: [setLocal(1, { stolen: 'planted-by-intruder' })] });

function errorCode(frames: unknown[]): string | undefined {
  return (frames[0] as { type?: string; error?: { code?: string } } | undefined)?.error?.code;
}

describe('companion socket authentication', () => {
  let dir: string;
  let companion: Companion;
  let socketPath: string;
  let token: string;

  beforeAll(async () => {
    dir = newDataDirPath();
    companion = await Companion.open({ dataDir: dir, env: {}, config: { snapshotIntervalMs: 3_600_000 } });
    socketPath = dataPaths(dir).socket;
    token = readFileSync(dataPaths(dir).token, 'utf8').trim();
  });

  afterAll(async () => {
    await companion?.shutdown();
    removeTempDirs();
  });

  it('the socket and token file are owner-only, and the token is 256 random bits', () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(dataPaths(dir).token).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a client with the token is let in and answered (control)', async () => {
    const r = await rawExchange(socketPath, Buffer.concat([auth(token), statusRequest]), 1500);
    expect(r.frames[0]).toEqual({ type: 'auth-ok', v: PROTOCOL_VERSION });
    expect(r.frames[1]).toMatchObject({ type: 'response', id: 'r1', ok: true, result: { pid: process.pid } });
  });

  it('a client that sends a request without any auth frame is refused and disconnected, its request unanswered', async () => {
    const r = await rawExchange(socketPath, statusRequest);
    expect(r.closed).toBe(true);
    expect(r.frames).toHaveLength(1);
    expect(r.frames[0]).toMatchObject({ type: 'error', error: { code: 'bad_message', message: expect.stringContaining('invalid auth frame') } });
  });

  it('an auth frame without a token is refused', async () => {
    const r = await rawExchange(socketPath, Buffer.concat([frame({ type: 'auth', v: PROTOCOL_VERSION, role: 'client' }), statusRequest]));
    expect(r.closed).toBe(true);
    expect(r.frames).toHaveLength(1);
    expect(r.frames[0]).toMatchObject({ type: 'error' });
  });

  it('a wrong token (same length, one character off, or empty-ish) is refused as unauthorized and nothing after it is read', async () => {
    const oneOff = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
    for (const wrong of [oneOff, 'f'.repeat(64), token + 'x', token.slice(0, 32)]) {
      const r = await rawExchange(socketPath, Buffer.concat([auth(wrong), statusRequest]));
      expect(r.closed).toBe(true);
      expect(r.frames).toEqual([{ type: 'error', error: { code: 'unauthorized', message: 'wrong token' } }]);
    }
  });

  it('a host with a wrong token cannot stream capture events: nothing is stored', async () => {
    const before = (await companion.store.listSessions()).length;
    const r = await rawExchange(socketPath, Buffer.concat([auth('0'.repeat(64), 'host'), hello, events]));
    expect(r.closed).toBe(true);
    expect(errorCode(r.frames)).toBe('unauthorized');
    expect(r.frames.some((f) => (f as { type?: string }).type === 'welcome')).toBe(false);
    expect(companion.store.listSessions()).toHaveLength(before);
  });

  it('garbage instead of a frame is refused and disconnected', async () => {
    const r = await rawExchange(socketPath, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(r.closed).toBe(true);
    expect(r.frames.some((f) => (f as { type?: string }).type === 'auth-ok')).toBe(false);
  });

  it('a client that says nothing is disconnected after the auth timeout', async () => {
    const r = await rawExchange(socketPath, Buffer.alloc(0), 8000);
    expect(r.closed).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(4500);
    expect(errorCode(r.frames)).toBe('unauthorized');
  }, 15_000);

  it('the real client with a token file that does not match is refused with unauthorized', async () => {
    const tokenFile = dataPaths(dir).token;
    writeFileSync(tokenFile, 'e'.repeat(64) + '\n');
    try {
      await expect(CompanionClient.connect(dir)).rejects.toMatchObject({ code: 'unauthorized', message: 'wrong token' });
    } finally {
      writeFileSync(tokenFile, token + '\n');
    }
    const client = await CompanionClient.connect(dir);
    expect(client).not.toBeNull();
    expect((await client!.request('status', {})).pid).toBe(process.pid);
    client!.close();
  });
});
