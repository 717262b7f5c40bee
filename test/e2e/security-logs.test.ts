/**
 * Cookie, storage and form field values never reach a log: a companion process with DEBUG='restory:*' receives
 * a capture stream full of distinctive values over the real socket protocol (as a native host:
 * auth → hello → events, plus requests and a malformed frame), and the CLI commands run against it
 * with the same DEBUG. None of the values may appear in any stdout/stderr — except `export`'s stdout,
 * which is the point of export (and proves the values were stored), with its warning on stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPaths } from '../../companion/data-dir.js';
import { EXTENSION_ORIGIN, MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import { FrameDecoder, encodeFrame } from '../../shared/frame-codec.js';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { eventually, runCli } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const COMPANION = fileURLToPath(new URL('../helpers/companion-process.mjs', import.meta.url));
const DEBUG_ENV = { DEBUG: 'restory:*', RESTORY_KEY: '', RESTORY_KEY_FILE: '' };

const tag = randomBytes(6).toString('hex');
const SECRETS = {
  cookieAll: `ckAll${tag}Q`,
  cookieChange: `ckChg${tag}W`,
  localFull: `lsFull${tag}E`,
  localChange: `lsChg${tag}R`,
  sessionChange: `ssChg${tag}T`,
  formField: `form${tag}U`,
  malformed: `bad${tag}Y`,
};
const ALL_SECRETS = Object.values(SECRETS);

function leaked(text: string): string[] {
  return ALL_SECRETS.filter((s) => text.includes(s));
}

/** A raw host-role connection speaking the framed protocol. */
class HostConnection {
  readonly frames: Record<string, unknown>[] = [];
  private readonly decoder = new FrameDecoder(MAX_FRAME_SOCKET);
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      for (const f of this.decoder.push(d)) if (f.ok) this.frames.push(f.message as Record<string, unknown>);
    });
    socket.on('error', () => {});
  }
  static async open(socketPath: string): Promise<HostConnection> {
    const socket = connect(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new HostConnection(socket);
  }
  send(message: unknown): void {
    this.socket.write(encodeFrame(message, MAX_FRAME_SOCKET));
  }
  waitFor(match: (f: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
    return eventually(() => this.frames.find(match), 10_000, what);
  }
  close(): void {
    this.socket.end();
  }
}

const at = 1_700_000_000_000;
const cookie = (name: string, value: string) => ({ name, value, domain: '127.0.0.1', path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Lax' as const });

function capture(): SequencedEvent[] {
  const scope = { tabId: 7, frameId: 0, origin: 'http://127.0.0.1:9' };
  return [
    { seq: 1, at, event: { kind: 'tabs', tabs: [{ tabId: 7, windowId: 1, index: 0, active: true, pinned: false, url: 'http://127.0.0.1:9/app', title: 'app' }], windows: [{ windowId: 1, state: 'normal', focused: true }] } },
    { seq: 2, at, event: { kind: 'navigation', tabId: 7, url: 'http://127.0.0.1:9/app', how: 'commit', qualifiers: [] } },
    { seq: 3, at, event: { kind: 'cookies.all', cookies: [cookie('sid', SECRETS.cookieAll)] } },
    { seq: 4, at, event: { kind: 'cookie.change', cookie: cookie('csrf', SECRETS.cookieChange), removed: false } },
    { seq: 5, at, event: { kind: 'storage.full', ...scope, area: 'local', items: { auth: SECRETS.localFull } } },
    { seq: 6, at, event: { kind: 'storage.change', ...scope, area: 'local', clear: false, set: { refresh: SECRETS.localChange }, remove: [] } },
    { seq: 7, at, event: { kind: 'storage.change', ...scope, area: 'session', clear: false, set: { draft: SECRETS.sessionChange }, remove: [] } },
    { seq: 8, at, event: { kind: 'form', tabId: 7, url: 'http://127.0.0.1:9/app', fields: [{ key: '#message', value: SECRETS.formField }] } },
  ];
}

describe('no cookie or storage value in any log (DEBUG=restory:*)', () => {
  let dataDir: string;
  let child: ChildProcess;
  let out = '';
  let err = '';
  let exited: Promise<number | null>;
  let sessionId: string;
  const cliOutputs: { args: string[]; stdout: string; stderr: string }[] = [];

  beforeAll(async () => {
    dataDir = tempDir('restory-logs-');
    child = spawn(process.execPath, [COMPANION, dataDir], {
      env: { ...process.env, ...DEBUG_ENV, RESTORY_SNAPSHOT_INTERVAL_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    exited = new Promise((r) => child.on('exit', (code) => r(code)));
    await eventually(() => out.includes('ready'), 20_000, `the companion to start (stderr: ${err})`);

    const token = readFileSync(dataPaths(dataDir).token, 'utf8').trim();
    const host = await HostConnection.open(dataPaths(dataDir).socket);
    host.send({ type: 'auth', v: PROTOCOL_VERSION, token, role: 'host', origin: EXTENSION_ORIGIN });
    host.send({ type: 'hello', v: PROTOCOL_VERSION, instanceId: `instance-${tag}`, extensionVersion: '0.1.0' });
    const welcome = await host.waitFor((f) => f.type === 'welcome', 'welcome');
    sessionId = String(welcome.sessionId);
    host.send({ type: 'events', batch: capture() });
    await host.waitFor((f) => f.type === 'ack' && f.seq === 8, 'ack of seq 8');
    host.send({ type: 'request', id: 'snap', method: 'snapshot', params: { sessionId } });
    await host.waitFor((f) => f.id === 'snap', 'snapshot response');
    // A malformed batch carrying a value: refused, and the refusal must not echo it.
    host.send({ type: 'events', batch: [{ seq: 'eight', at, event: { kind: 'cookie.change', removed: false, cookie: { name: 'x', value: SECRETS.malformed, domain: 3 } } }] });
    const refusal = await host.waitFor((f) => f.type === 'error', 'refusal of the malformed batch');
    expect(leaked(JSON.stringify(refusal))).toEqual([]);
    host.send({ type: 'request', id: 'list', method: 'list', params: {} });
    await host.waitFor((f) => f.id === 'list', 'list response');
    await new Promise((r) => setTimeout(r, 1500)); // an interval snapshot and a checkpoint happen meanwhile

    // CLI commands against the running companion, with the same DEBUG.
    for (const args of [['list'], ['list', '--json'], ['status', '--json'], ['snapshots', sessionId, '--json'], ['doctor', '--json']]) {
      const r = await runCli([...args, '--data-dir', dataDir], DEBUG_ENV);
      cliOutputs.push({ args, stdout: r.stdout, stderr: r.stderr });
    }
    host.close(); // the browser "goes away": final snapshot, session recoverable
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    // And without a companion (the store read directly).
    for (const args of [['list'], ['snapshots', sessionId], ['status'], ['doctor']]) {
      const r = await runCli([...args, '--data-dir', dataDir], DEBUG_ENV);
      cliOutputs.push({ args, stdout: r.stdout, stderr: r.stderr });
    }
  }, 120_000);

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('debug logging was on, so the check means something', () => {
    expect(err).toMatch(/restory:(connection|store|socket|snapshot)/);
    expect(err).toContain('restory:connection');
  });

  it("the companion's stdout and stderr hold none of the values", () => {
    expect(leaked(out)).toEqual([]);
    expect(leaked(err)).toEqual([]);
  });

  it('no CLI command prints them (list, status, snapshots, doctor; with and without a running companion)', () => {
    for (const c of cliOutputs) {
      expect([c.args.join(' '), leaked(c.stdout), leaked(c.stderr)]).toEqual([c.args.join(' '), [], []]);
    }
  });

  it('restory export warns on stderr that its output holds credentials (and prints them on stdout only)', async () => {
    for (const format of ['restory', 'playwright']) {
      const r = await runCli(['export', sessionId, '--data-dir', dataDir, '--format', format], DEBUG_ENV);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('restory: warning: this export holds cookies and storage — credentials. Keep it private.');
      expect(leaked(r.stderr)).toEqual([]);
      // The values were stored: export is the one place they are meant to come out.
      expect(r.stdout).toContain(SECRETS.cookieAll);
      expect(r.stdout).toContain(SECRETS.cookieChange);
      expect(r.stdout).toContain(SECRETS.localChange);
      if (format === 'restory') expect(r.stdout).toContain(SECRETS.sessionChange);
      if (format === 'restory') expect(r.stdout).toContain(SECRETS.formField);
    }
  });
});
