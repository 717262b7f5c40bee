/**
 * A browser `restory resume` starts before its companion listens (companion/session/
 * session-browser-spawn.ts) calls its native host before the socket is up. Given a due-by time, the
 * real dist host waits for the socket until then instead of exiting (and being started again by the
 * extension's retry); without one, or once it has passed, it says the companion is unreachable at once.
 * A plain socket server stands in for the companion: what is checked is the host's side.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeHostScript } from '../../companion/project-root.js';
import { ENV, EXTENSION_ORIGIN, MAX_FRAME_SOCKET } from '../../shared/constants.js';
import { FrameDecoder } from '../../shared/frame-codec.js';

function startHost(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [nativeHostScript(), EXTENSION_ORIGIN], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const frames: unknown[] = [];
  const decoder = new FrameDecoder(MAX_FRAME_SOCKET);
  child.stdout.on('data', (d: Buffer) => {
    for (const f of decoder.push(d)) if (f.ok) frames.push(f.message);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, frames, exited };
}

/** Listen on `path`; resolves with the server and the first frame of the first connection. */
async function listen(path: string): Promise<{ server: Server; firstFrame: Promise<unknown> }> {
  let gotFrame!: (m: unknown) => void;
  const firstFrame = new Promise<unknown>((r) => (gotFrame = r));
  const server = createServer((socket) => {
    const decoder = new FrameDecoder(MAX_FRAME_SOCKET);
    socket.on('data', (d: Buffer) => {
      for (const f of decoder.push(d)) if (f.ok) gotFrame(f.message);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { server, firstFrame };
}

describe('native host of a browser started before its companion (real dist host)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  function setup(dueBy?: number) {
    const dir = mkdtempSync(join(tmpdir(), 'restory-host-wait-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const socketPath = join(dir, 'companion.sock');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      [ENV.dataDir]: dir,
      [ENV.socket]: socketPath,
      [ENV.token]: 'f'.repeat(64),
      [ENV.sessionId]: 'session-1',
      ...(dueBy ? { [ENV.companionDueBy]: String(dueBy) } : {}),
    };
    return { socketPath, env };
  }

  it('waits for a socket that comes up before the due-by time, then authenticates for its session', async () => {
    const { socketPath, env } = setup(Date.now() + 20_000);
    const host = startHost(env);
    cleanups.push(() => host.child.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(host.child.exitCode).toBeNull(); // still waiting, nothing said to the browser
    expect(host.frames).toEqual([]);
    const { server, firstFrame } = await listen(socketPath);
    cleanups.push(() => server.close());
    expect(await firstFrame).toMatchObject({ type: 'auth', role: 'host', sessionId: 'session-1', origin: EXTENSION_ORIGIN });
    host.child.stdin.end(); // the port disconnects: the host ends normally
    expect(await host.exited).toBe(0);
  }, 30_000);

  it('without a due-by time, or once it has passed, reports the companion unreachable at once', async () => {
    for (const dueBy of [undefined, Date.now() - 1000]) {
      const { env } = setup(dueBy);
      const t0 = Date.now();
      const host = startHost(env);
      cleanups.push(() => host.child.kill('SIGKILL'));
      expect(await host.exited).toBe(3);
      expect(Date.now() - t0).toBeLessThan(10_000); // no waiting (Node's own start-up is most of this)
      expect(host.frames).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'companion_unreachable' }) }]);
    }
  }, 30_000);
});
