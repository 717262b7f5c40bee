/**
 * The native host (the real dist/companion/native-host/main.js, run the way Chromium runs it) serves
 * only our extension: any other calling origin gets an `unauthorized` error frame and a non-zero
 * exit, and the host never even connects to the companion's socket.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeHostScript } from '../../companion/project-root.js';
import { EXTENSION_ID, EXTENSION_ORIGIN, MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import { FrameDecoder, encodeFrame } from '../../shared/frame-codec.js';

interface HostRun {
  code: number | null;
  frames: unknown[];
}

/** Run the host with `args` (argv[1] = origin), writing `stdin`; `endStdin` closes it after (the port disconnects). */
function runHost(args: string[], env: NodeJS.ProcessEnv, stdin: Buffer, endStdin = false, timeoutMs = 10_000): Promise<HostRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nativeHostScript(), ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const decoder = new FrameDecoder(MAX_FRAME_SOCKET);
    const frames: unknown[] = [];
    child.stdout.on('data', (d: Buffer) => {
      for (const f of decoder.push(d)) if (f.ok) frames.push(f.message);
    });
    child.stdin.on('error', () => {}); // a refusing host exits before reading
    child.stdin.write(stdin);
    if (endStdin) child.stdin.end();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`native host ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, frames });
    });
  });
}

describe('native host origin check (real dist host)', () => {
  let dir: string;
  let socketPath: string;
  let server: Server;
  /** Connections the fake companion saw, and the first frame of each. */
  const connections: unknown[] = [];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(nativeHostScript())) throw new Error(`${nativeHostScript()} is missing: run npm run build`);
    dir = mkdtempSync(join(tmpdir(), 'restory-host-sec-'));
    socketPath = join(dir, 'companion.sock');
    server = createServer((socket) => {
      const decoder = new FrameDecoder(MAX_FRAME_SOCKET);
      const index = connections.push(null) - 1;
      socket.on('data', (d: Buffer) => {
        for (const f of decoder.push(d)) if (f.ok && connections[index] === null) connections[index] = f.message;
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
    env = { PATH: process.env.PATH, HOME: dir, RESTORY_DATA_DIR: dir, RESTORY_SOCKET: socketPath, RESTORY_TOKEN: 'f'.repeat(64) };
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const wrongOrigins: [string, string[]][] = [
    ['another extension', ['chrome-extension://abcdefghijklmnopabcdefghijklmnop/']],
    ['our id without the trailing slash', [`chrome-extension://${EXTENSION_ID}`]],
    ['a web origin', ['https://evil.example/']],
    ['our id under another scheme', [`https://${EXTENSION_ID}/`]],
    ['no origin at all', []],
  ];

  for (const [what, args] of wrongOrigins) {
    it(`refuses ${what}: unauthorized error frame, non-zero exit, no socket connection`, async () => {
      const before = connections.length;
      const hello = encodeFrame({ type: 'hello', v: PROTOCOL_VERSION, instanceId: 'instance-xyz', extensionVersion: '0' }, MAX_FRAME_SOCKET);
      const run = await runHost(args, env, hello);
      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull();
      expect(run.frames).toHaveLength(1);
      expect(run.frames[0]).toMatchObject({ type: 'error', error: { code: 'unauthorized', message: expect.stringContaining('may not use the restory host') } });
      // Give a (wrong) late connect the chance to show up.
      await new Promise((r) => setTimeout(r, 200));
      expect(connections.length).toBe(before);
    });
  }

  it('our own origin does connect and authenticates with the token (control)', async () => {
    const before = connections.length;
    // stdin closes right away (like a port that disconnects): the host connects, relays, then exits 0.
    const run = await runHost([EXTENSION_ORIGIN], env, Buffer.alloc(0), true);
    expect(run.code).toBe(0);
    expect(connections.length).toBe(before + 1);
    expect(connections[before]).toMatchObject({ type: 'auth', role: 'host', token: 'f'.repeat(64), origin: EXTENSION_ORIGIN });
  });
});
