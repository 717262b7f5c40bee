/**
 * Real processes for the fault tests: a browserless companion child (companion-process.mjs), a raw
 * client of its socket that speaks the real protocol byte by byte, and a capture writer that behaves
 * like the extension's outbox (seq-numbered events kept until acknowledged, resent on reconnect).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import { FrameDecoder, encodeFrame } from '../../shared/frame-codec.js';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { dataPaths } from '../../companion/data-dir.js';

const COMPANION = fileURLToPath(new URL('./companion-process.mjs', import.meta.url));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deterministic PRNG (mulberry32), so a failing fuzz or kill schedule reproduces from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: RESTORY_FUZZ_SEED when set (to reproduce), else random. */
export function runSeed(): number {
  const fromEnv = Number(process.env.RESTORY_FUZZ_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1 + Math.floor(Math.random() * 0x7fffffff);
}

export interface CompanionChild {
  child: ChildProcess;
  pid: number;
  stderr: () => string;
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Start a companion (no browser) on `dataDir`; resolves once its socket listens. */
export function spawnCompanion(dataDir: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<CompanionChild> {
  const child = spawn(process.execPath, [COMPANION, dataDir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? -1)));
  const handle: CompanionChild = {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    exited,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`companion did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready ')) {
        clearTimeout(timer);
        resolve(handle);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`companion exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

/** Resident set size of a live process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

export function readDataDirToken(dataDir: string): string {
  return readFileSync(dataPaths(dataDir).token, 'utf8').trim();
}

/** A raw socket connection: frames out as given, every decoded frame (or frame error) kept in order. */
export class RawConnection {
  readonly messages: unknown[] = [];
  readonly frameErrors: string[] = [];
  readonly closed: Promise<void>;
  private isClosed = false;
  private wake: (() => void) | null = null;
  private readonly decoder = new FrameDecoder(MAX_FRAME_SOCKET);

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        this.wake?.();
        resolve();
      });
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) {
        if (f.ok) this.messages.push(f.message);
        else this.frameErrors.push(f.error.message);
      }
      this.wake?.();
    });
  }

  static open(socketPath: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Open and authenticate (auth-ok awaited). */
  static async authed(dataDir: string, role: 'host' | 'client', extra: { sessionId?: string } = {}): Promise<RawConnection> {
    const c = await RawConnection.open(dataPaths(dataDir).socket);
    c.send({ type: 'auth', v: PROTOCOL_VERSION, token: readDataDirToken(dataDir), role, ...extra });
    const reply = (await c.next(() => true, 5000)) as { type?: string };
    if (reply.type !== 'auth-ok') throw new Error(`auth refused: ${JSON.stringify(reply)}`);
    return c;
  }

  get open(): boolean {
    return !this.isClosed;
  }

  send(message: unknown): void {
    if (!this.isClosed) this.socket.write(encodeFrame(message, MAX_FRAME_SOCKET));
  }

  sendRaw(bytes: Buffer): void {
    if (!this.isClosed) this.socket.write(bytes);
  }

  /** The first message (from `from` on) matching `match`, removed from the queue. */
  async next(match: (m: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex((m) => typeof m === 'object' && m !== null && match(m as Record<string, unknown>));
      if (i >= 0) return this.messages.splice(i, 1)[0] as Record<string, unknown>;
      if (this.isClosed) throw new Error(`connection closed; unmatched messages: ${JSON.stringify(this.messages).slice(0, 500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message in ${timeoutMs} ms; have: ${JSON.stringify(this.messages).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
  }

  /** Resolves true if the peer closed within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), sleep(ms).then(() => false)]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function localWrite(seq: number, set: Record<string, string>, origin = 'https://storm.test'): SequencedEvent {
  return {
    seq,
    at: Date.now(),
    event: { kind: 'storage.change', tabId: 1, frameId: 0, origin, area: 'local', clear: false, set, remove: [] },
  };
}

/**
 * Writes like the extension does: seq-numbered storage events (key `k<seq>` = `v<seq>`) in small
 * batches, every one kept until an ack covers it, everything unacknowledged resent after a
 * reconnect. `acked` is the highest seq the companion acknowledged (= promised durable).
 */
export class StormWriter {
  acked = 0;
  nextSeq = 1;
  sessionId: string | null = null;
  errors: string[] = [];
  private conn: RawConnection | null = null;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly dataDir: string,
    readonly instanceId: string,
    private readonly random: () => number = Math.random,
    /** Authenticate as the host of a browser the companion launched for this session (RESTORY_SESSION_ID). */
    readonly authSessionId?: string,
  ) {}

  /**
   * Connect, hello, and write until the connection drops or stop() is called. A refused hello
   * (e.g. storage_failed on a full disk) is retried on a new connection, as the extension does.
   */
  async start(retryForMs = 0): Promise<void> {
    const deadline = Date.now() + retryForMs;
    let conn: RawConnection;
    let welcome: Record<string, unknown>;
    for (;;) {
      conn = await RawConnection.authed(this.dataDir, 'host', this.authSessionId ? { sessionId: this.authSessionId } : {});
      conn.send({ type: 'hello', v: PROTOCOL_VERSION, instanceId: this.instanceId, extensionVersion: 'storm' });
      welcome = await conn.next((m) => m.type === 'welcome' || m.type === 'error', 5000);
      if (welcome.type === 'welcome') break;
      this.errors.push(JSON.stringify(welcome.error));
      conn.destroy();
      if (Date.now() > deadline) throw new Error(`hello refused: ${JSON.stringify(welcome)}`);
      await sleep(250);
    }
    this.conn = conn;
    this.sessionId = welcome.sessionId as string;
    this.noteAck(welcome.ackedSeq as number);
    this.running = true;
    // Everything not acknowledged yet goes again (the companion drops what it already has).
    if (this.nextSeq > this.acked + 1) this.sendBatch(this.acked + 1, this.nextSeq - 1);
    this.loop = this.write(conn);
  }

  private sendBatch(from: number, to: number): void {
    const batch: SequencedEvent[] = [];
    for (let s = from; s <= to; s++) batch.push(localWrite(s, { [`k${s}`]: `v${s}`, counter: String(s) }));
    this.conn!.send({ type: 'events', batch });
  }

  private noteAck(seq: number): void {
    if (seq > this.acked) this.acked = seq;
  }

  private drain(conn: RawConnection): void {
    for (const m of conn.messages.splice(0) as Record<string, unknown>[]) {
      if (m.type === 'ack') this.noteAck(m.seq as number);
      else if (m.type === 'error') this.errors.push(JSON.stringify(m.error));
    }
  }

  private async write(conn: RawConnection): Promise<void> {
    while (this.running && conn.open) {
      const n = 1 + Math.floor(this.random() * 6);
      const from = this.nextSeq;
      this.nextSeq += n;
      this.sendBatch(from, this.nextSeq - 1);
      await sleep(1 + Math.floor(this.random() * 4));
      this.drain(conn);
    }
    this.drain(conn);
  }

  /** Wait until everything sent so far is acknowledged. */
  async settle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked < this.nextSeq - 1) {
      if (Date.now() > deadline) throw new Error(`not acknowledged: ${this.acked + 1}..${this.nextSeq - 1}; errors: ${this.errors.join('; ')}`);
      await sleep(20);
      if (this.conn) this.drain(this.conn);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Wait for the write loop to end after the companion died. */
  async disconnected(): Promise<void> {
    await this.conn?.closed;
    await this.loop;
    this.running = false;
  }

  close(): void {
    this.running = false;
    this.conn?.destroy();
  }
}

/**
 * A one-page site whose /storm.html writes a counter to localStorage every `periodMs` (`n1`, `n2`, …
 * and `c` = the newest), continuing from `c` after a reload or a restore, so gaps are detectable.
 */
export async function startStormSite(periodMs: number): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/storm.html' ? 200 : 404, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    res.end(
      req.url === '/storm.html'
        ? `<!doctype html><title>storm</title><script>
             let i = Number(localStorage.getItem('c') || 0);
             setInterval(() => { i++; localStorage.setItem('n' + i, String(i)); localStorage.setItem('c', String(i)); }, ${periodMs});
           </script>`
        : '',
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
