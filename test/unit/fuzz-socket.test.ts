/**
 * Fuzz of the companion's socket and of the native host relay, against real processes (a companion
 * child from dist/, the compiled host), seeded so a failure reproduces:
 * RESTORY_FUZZ_SEED=<printed seed> npx vitest run test/unit/fuzz-socket.test.ts   (npm run build first)
 *
 * - Before auth: random bytes, oversize and truncated frames, non-JSON, wrong tokens and versions.
 *   Each connection gets an error reply and is closed within a second (not after the 5 s timeout).
 * - After auth, as host and as client: thousands of schema-invalid, mutated, non-JSON and not-UTF-8
 *   frames; each gets exactly one reply, the connection stays usable.
 * - Huge frames: an invalid batch of 300,000 events (whose error once outgrew the frame limit and
 *   killed the companion), a 20 MB string, a frame announcing more than 64 MiB.
 * - Meanwhile a well-behaved client's requests keep succeeding, and the companion's RSS does not grow
 *   from one fuzz round to the next.
 * - The native host fed garbage on stdin answers with valid error frames, never a crash trace.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN, MAX_FRAME_FROM_BROWSER, MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import { encodeFrame, FrameDecoder } from '../../shared/frame-codec.js';
import { CompanionMessageSchema } from '../../shared/protocol.js';
import { dataPaths } from '../../companion/data-dir.js';
import { prng, RawConnection, readDataDirToken, rssOf, runSeed, sleep, spawnCompanion, type CompanionChild } from '../helpers/fault-harness.js';

const SEED = runSeed();
const HOST = resolve(import.meta.dirname, '../../dist/companion/native-host/main.js');
const MiB = 1024 * 1024;

let dir: string;
let companion: CompanionChild;
const counts = { preAuth: 0, postAuth: 0, huge: 0, host: 0 };

beforeAll(async () => {
  console.log(`fuzz-socket: seed ${SEED} (reproduce with RESTORY_FUZZ_SEED=${SEED})`);
  dir = join(mkdtempSync(join(tmpdir(), 'restory-fuzz-')), 'data');
  companion = await spawnCompanion(dir);
});

afterAll(async () => {
  const total = counts.preAuth + counts.postAuth + counts.huge + counts.host;
  console.log(`fuzz-socket: seed ${SEED}: ${total} cases (${JSON.stringify(counts)})`);
  if (companion) expect(await companion.kill('SIGTERM')).toBe(0);
  rmSync(resolve(dir, '..'), { recursive: true, force: true });
});

function header(length: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(length >>> 0); // the fuzz targets run on little-endian Linux
  return h;
}
const rawFrame = (body: Buffer) => Buffer.concat([header(body.length), body]);

function generators(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const str = () => pick(['', 'x', 'é😀', '\u0000', '\ud800', 'a'.repeat(int(300)), String(int(1e6))]);
  const junk = (depth = 0): unknown =>
    depth > 2
      ? pick([0, -1, 1.5, '', 'x', null, true, [], {}])
      : pick([
          () => int(1e9),
          () => str(),
          () => null,
          () => Array.from({ length: int(4) }, () => junk(depth + 1)),
          () => Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['type', 'id', 'v', 'batch', 'seq', str()]), junk(depth + 1)])),
        ])();
  const validEvent = () => ({
    seq: 1 + int(100),
    at: Date.now(),
    event: { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://f.test', area: 'local', set: { a: 'b' } },
  });
  /** A well-formed message with one thing broken. */
  const mutated = (): unknown => {
    const base = pick([
      () => ({ type: 'hello', v: PROTOCOL_VERSION, instanceId: 'fuzz-instance-x', extensionVersion: '1' }),
      () => ({ type: 'events', batch: [validEvent()] }),
      () => ({ type: 'request', id: `r${int(1e6)}`, method: pick(['list', 'status', 'resume', 'close', 'snapshot', 'import']), params: {} }),
    ])() as Record<string, unknown>;
    const keys = Object.keys(base);
    const key = pick(keys);
    switch (int(6)) {
      case 0: delete base[key]; break;
      case 1: base[key] = junk(); break;
      case 2: base.type = pick(['hello ', 'event', 'REQUEST', 'auth', 'ack', 'welcome', '']); break;
      case 3: if (base.type === 'events') base.batch = [{ ...validEvent(), seq: pick([0, -1, 1.5, 'x', null]) }]; else base.v = pick([0, 2, '1', -1]); break;
      case 4: if (base.type === 'request') base.method = pick(['nope', 'constructor', '__proto__', 'toString']); else base.type = 'request'; break;
      default: if (base.type === 'request') base.params = pick([{ sessionId: 'does-not-exist' }, { sessionId: 5 }, { state: 'bogus' }, [], 'x']); else base[key] = undefined;
    }
    return base;
  };
  return { int, pick, junk, mutated };
}

/** A well-behaved client asking for `status` every 25 ms; every answer must come and be ok. */
function wellBehavedClient() {
  let stop = false;
  let ok = 0;
  let slowest = 0;
  const failures: string[] = [];
  const run = (async () => {
    const c = await RawConnection.authed(dir, 'client');
    for (let i = 0; !stop; i++) {
      const t0 = Date.now();
      c.send({ type: 'request', id: `good-${i}`, method: 'status', params: {} });
      try {
        const r = await c.next((m) => m.id === `good-${i}`, 10_000);
        if (r.ok === true) ok++;
        else failures.push(JSON.stringify(r));
      } catch (e) {
        failures.push((e as Error).message);
        break;
      }
      slowest = Math.max(slowest, Date.now() - t0);
      await sleep(25);
    }
    c.destroy();
  })();
  return {
    async finish() {
      stop = true;
      await run;
      return { ok, slowest, failures };
    },
  };
}

describe(`fuzz: companion socket (seed ${SEED})`, () => {
  it('unauthenticated garbage: every connection gets an error and is closed promptly', async () => {
    const random = prng(SEED);
    const g = generators(random);
    const token = readDataDirToken(dir);
    const good = wellBehavedClient();
    const kinds = [
      () => g.int(2) ? Buffer.from(Array.from({ length: g.int(64) }, () => g.int(256))) : Buffer.alloc(g.int(3)),
      () => header(MAX_FRAME_SOCKET + 1 + g.int(1000)),
      () => header(20_000 + g.int(MiB)), // over the pre-auth limit
      () => rawFrame(Buffer.from('{not json')),
      () => rawFrame(Buffer.from([0xff, 0xfe, 0x00])),
      () => encodeFrame(g.junk(), MiB),
      () => encodeFrame(g.mutated(), MiB),
      () => encodeFrame({ type: 'auth', v: PROTOCOL_VERSION, token: 'x'.repeat(64), role: 'host' }, MiB),
      () => encodeFrame({ type: 'auth', v: PROTOCOL_VERSION + 1, token, role: 'client' }, MiB),
      () => encodeFrame({ type: 'auth', v: PROTOCOL_VERSION, token, role: g.pick(['admin', '', 5]) }, MiB),
      () => encodeFrame({ type: 'auth', v: PROTOCOL_VERSION, token: token.slice(0, 10), role: 'client' }, MiB),
      () => encodeFrame({ type: 'auth', v: PROTOCOL_VERSION, token }, MiB).subarray(0, 10), // truncated
    ];
    const CONNECTIONS = 400;
    const slow: string[] = [];
    for (let start = 0; start < CONNECTIONS; start += 40) {
      await Promise.all(
        Array.from({ length: Math.min(40, CONNECTIONS - start) }, async (_, i) => {
          const kind = g.int(kinds.length);
          const bytes = kinds[kind]();
          const c = await RawConnection.open(dataPaths(dir).socket);
          c.sendRaw(bytes);
          // A client that stops talking (as a truncated frame's sender would) half-closes.
          if (kind === 0 || kind === kinds.length - 1 || g.int(3) === 0) c.socket.end();
          const closed = await c.closesWithin(5000); // generous: a loaded CI machine, not the server, is what is slow
          if (!closed) slow.push(`connection ${start + i} (kind ${kind}, ${bytes.length} bytes) still open after 5 s`);
          for (const m of c.messages) expect(m).toMatchObject({ type: 'error', error: { code: expect.any(String) } });
          c.destroy();
          counts.preAuth++;
        }),
      );
    }
    expect(slow).toEqual([]);
    const { ok, failures } = await good.finish();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
  });

  it('authenticated garbage: one reply per frame, connections stay usable, RSS does not grow round to round', async () => {
    const random = prng(SEED ^ 0x9e3779b9);
    const g = generators(random);
    const good = wellBehavedClient();
    const round = async (frames: number) => {
      const conns = [await RawConnection.authed(dir, 'host'), await RawConnection.authed(dir, 'client')];
      for (let sent = 0; sent < frames; ) {
        const c = conns[g.int(2)];
        const before = c.messages.length;
        const n = 1 + g.int(100);
        const chunk: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const k = g.int(10);
          if (k === 0) chunk.push(rawFrame(Buffer.from(g.pick(['', '{', 'nul\u0000l', '[1,]', '"unterminated']))));
          else if (k === 1) chunk.push(rawFrame(Buffer.from([0xc0, 0xaf, g.int(256)])));
          else if (k <= 5) chunk.push(encodeFrame(g.junk(), MiB));
          else chunk.push(encodeFrame(g.mutated(), MiB));
        }
        c.sendRaw(Buffer.concat(chunk));
        const deadline = Date.now() + 10_000;
        while (c.messages.length < before + n && Date.now() < deadline && c.open) await sleep(2);
        expect(c.open, 'the companion closed a connection over a non-fatal frame').toBe(true);
        expect(c.messages.length - before, `replies to ${n} frames`).toBe(n);
        for (const m of c.messages.slice(before)) expect(CompanionMessageSchema.safeParse(m).success, JSON.stringify(m)).toBe(true);
        c.messages.splice(0);
        sent += n;
        counts.postAuth += n;
      }
      // Still usable afterwards: a valid request on the fuzzed connection is answered.
      conns[1].send({ type: 'request', id: 'after', method: 'list', params: {} });
      expect(await conns[1].next((m) => m.id === 'after', 5000)).toMatchObject({ ok: true });
      for (const c of conns) c.destroy();
    };
    await round(3000);
    await sleep(300);
    const rss1 = rssOf(companion.pid);
    await round(3000);
    await round(3000);
    await sleep(300);
    const rss2 = rssOf(companion.pid);
    console.log(`fuzz-socket: companion RSS after round 1 ${(rss1 / MiB).toFixed(0)} MiB, after round 3 ${(rss2 / MiB).toFixed(0)} MiB`);
    expect(rss2 - rss1).toBeLessThan(48 * MiB);
    const { ok, failures } = await good.finish();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
  });

  it('huge frames: an error reply or a closed connection; the companion lives and stays bounded', async () => {
    const good = wellBehavedClient();
    const rss0 = rssOf(companion.pid);

    // 300,000 invalid events (2 MB): its full error text would be ~75 MB, over the frame limit.
    const host = await RawConnection.authed(dir, 'host');
    host.send({ type: 'hello', v: PROTOCOL_VERSION, instanceId: 'fuzz-huge-instance', extensionVersion: '1' });
    await host.next((m) => m.type === 'welcome', 5000);
    host.send({ type: 'events', batch: Array.from({ length: 300_000 }, () => ({})) });
    const reply = await host.next(() => true, 20_000);
    expect(reply).toMatchObject({ type: 'error', error: { code: 'bad_message', message: expect.stringMatching(/event 0 of the batch/) } });
    expect(JSON.stringify(reply).length).toBeLessThan(16 * 1024);
    counts.huge++;

    // A 20 MB string where a message should be, and a request whose id is 1 MB.
    host.send('s'.repeat(20 * MiB));
    expect(await host.next(() => true, 10_000)).toMatchObject({ type: 'error', error: { code: 'bad_message' } });
    host.send({ type: 'request', id: 'i'.repeat(MiB), method: 'nope', params: {} });
    expect(await host.next(() => true, 10_000)).toMatchObject({ type: 'response', ok: false });
    counts.huge += 2;

    // A frame announcing more than the limit: error, then the connection is closed.
    host.sendRaw(header(MAX_FRAME_SOCKET + 1));
    expect(await host.closesWithin(2000)).toBe(true);
    expect(host.messages.at(-1)).toMatchObject({ type: 'error', error: { code: 'bad_frame' } });
    counts.huge++;

    // 40 MB of a 60 MB frame, then the sender vanishes: buffered, then dropped with the connection.
    const partial = await RawConnection.authed(dir, 'client');
    partial.sendRaw(header(60 * MiB));
    partial.sendRaw(Buffer.alloc(40 * MiB, 0x20));
    await sleep(500);
    partial.destroy();
    counts.huge++;

    await sleep(1000);
    const rss1 = rssOf(companion.pid);
    console.log(`fuzz-socket: companion RSS before huge frames ${(rss0 / MiB).toFixed(0)} MiB, after ${(rss1 / MiB).toFixed(0)} MiB`);
    expect(rss1 - rss0).toBeLessThan(256 * MiB);
    const { ok, failures, slowest } = await good.finish();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    console.log(`fuzz-socket: slowest well-behaved request during huge frames: ${slowest} ms`);
    expect(companion.child.exitCode).toBeNull();
    expect(companion.stderr()).not.toMatch(/\n\s+at /);
  });
});

describe(`fuzz: native host relay (seed ${SEED})`, () => {
  /** Run the compiled host with `stdin` bytes; its stdout decoded as frames. */
  function runHost(stdin: Buffer, env: NodeJS.ProcessEnv, origin = EXTENSION_ORIGIN) {
    return new Promise<{ code: number | null; signal: string | null; frames: unknown[]; frameErrors: string[]; stderr: string }>((done) => {
      const child = spawn(process.execPath, [HOST, origin], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      const decoder = new FrameDecoder(MAX_FRAME_FROM_BROWSER);
      const frames: unknown[] = [];
      const frameErrors: string[] = [];
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        for (const f of decoder.push(d)) (f.ok ? frames.push(f.message) : frameErrors.push(f.error.message));
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdin.on('error', () => {}); // the host may exit (oversize frame) before reading it all
      child.stdin.end(stdin);
      child.on('close', (code, signal) => done({ code, signal, frames, frameErrors, stderr }));
    });
  }

  it('garbage on stdin: error frames back, valid frames only, no crash trace', async () => {
    const random = prng(SEED ^ 0x85ebca6b);
    const g = generators(random);
    const noCompanion = join(mkdtempSync(join(tmpdir(), 'restory-fuzz-host-')), 'data');
    const runs = 24;
    // Frames are generated up front (in seed order), the hosts then run four at a time.
    const plans = Array.from({ length: runs }, (_, r) => {
      const connected = r % 3 !== 2;
      const frames: Buffer[] = [];
      let expectReplies = 0;
      const n = 60 + g.int(140);
      let fatal = false;
      for (let i = 0; i < n && !fatal; i++) {
        const k = g.int(12);
        if (k === 0 && r % 4 === 0) {
          frames.push(header(MAX_FRAME_FROM_BROWSER + 1 + g.int(100)), Buffer.from('tail'));
          fatal = true;
        } else if (k <= 2) {
          frames.push(rawFrame(Buffer.from(g.pick(['{', 'undefined', '\u0000', '1e999999', '[[[']))));
          expectReplies++;
        } else if (k === 3) {
          frames.push(rawFrame(Buffer.from([0xed, 0xa0, 0x80]))); // a UTF-8-encoded lone surrogate
          expectReplies++;
        } else {
          frames.push(encodeFrame(k <= 7 ? g.junk() : g.mutated(), MiB));
          if (connected) expectReplies++;
        }
        counts.host++;
      }
      if (!fatal && g.int(4) === 0) frames.push(header(100), Buffer.from('cut short'));
      return { r, connected, fatal, expectReplies, stdin: Buffer.concat(frames) };
    });
    for (let i = 0; i < runs; i += 4) {
      await Promise.all(
        plans.slice(i, i + 4).map(async ({ r, connected, fatal, expectReplies, stdin }) => {
          const env = { RESTORY_DATA_DIR: connected ? dir : noCompanion, RESTORY_SOCKET: '', RESTORY_TOKEN: '' };
          const out = await runHost(stdin, env, r === 5 ? 'chrome-extension://someone-else/' : EXTENSION_ORIGIN);
          const what = `seed ${SEED} run ${r} (${connected ? 'companion running' : 'no companion'})`;
          expect(out.stderr, what).not.toMatch(/\n\s+at |Error:|node:internal/);
          expect(out.signal, what).toBeNull();
          expect(out.frameErrors, what).toEqual([]);
          for (const f of out.frames) expect(CompanionMessageSchema.safeParse(f).success, `${what}: ${JSON.stringify(f)}`).toBe(true);
          expect(out.frames.some((f) => (f as { type: string }).type === 'error'), what).toBe(true);
          if (r === 5) {
            expect(out.code).toBe(1);
            expect(out.frames[0]).toMatchObject({ error: { code: 'unauthorized' } });
          } else if (connected && !fatal) {
            expect(out.frames.length, what).toBe(expectReplies);
          }
        }),
      );
    }
    rmSync(resolve(noCompanion, '..'), { recursive: true, force: true });
  });
});
