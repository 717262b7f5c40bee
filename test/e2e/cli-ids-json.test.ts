/**
 * Session ids through the real CLI: an unambiguous prefix is taken wherever an id is (close,
 * snapshots, export, resume), with and without a companion; `--json` on the commands that printed
 * only text (start, resume, import, close); `export --output` writes a private file.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RestoryExport, SessionState, SessionSummary } from '../../shared/state.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';

import { BIN, runCli, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

afterAll(removeTempDirs);

function stateAt(url: string): SessionState {
  return {
    cookies: [],
    origins: [{ origin: 'https://a.test', localStorage: [{ name: 'k', value: 'v' }] }],
    tabs: [{ windowIndex: 0, index: 0, active: true, pinned: false, url, title: '', history: { entries: [{ url, title: '' }], currentIndex: 0 }, sessionStorage: [] }],
    windows: [{ state: 'normal', focused: true }],
    capturedAt: Date.now(),
  };
}

async function storeWith(ids: string[]): Promise<string> {
  const dataDir = newDataDirPath();
  const store = await SqlJsStore.open({ dataDir });
  for (const id of ids) {
    const state = stateAt(`https://a.test/${id}`);
    await store.createSession({ id, name: id, state: 'recoverable', initial: state });
    await store.saveSnapshot(id, 'import', { state });
  }
  await store.close();
  return dataDir;
}

const listed = async (dataDir: string) => JSON.parse((await runCli(['list', '--json', '--data-dir', dataDir])).stdout) as SessionSummary[];

describe('session id prefixes without a companion', () => {
  it('export, snapshots, close and resume(take a prefix only one id starts with; an ambiguous one lists the candidates and exits 2)', async () => {
    const dataDir = await storeWith(['abc111', 'abc222', 'def333']);
    const d = ['--data-dir', dataDir];

    const exported = await runCli(['export', 'de', ...d]);
    expect(exported.code, exported.stderr).toBe(0);
    expect((JSON.parse(exported.stdout) as RestoryExport).session.id).toBe('def333');
    const snapshots = await runCli(['snapshots', 'def', '--json', ...d]);
    expect(snapshots.code, snapshots.stderr).toBe(0);
    expect(JSON.parse(snapshots.stdout)).toHaveLength(1);

    for (const command of ['export', 'snapshots', 'close', 'resume']) {
      const ambiguous = await runCli([command, 'abc', ...d]);
      expect(ambiguous.code, `${command}: ${ambiguous.stderr}`).toBe(2);
      expect(ambiguous.stderr).toMatch(/prefix "abc" is ambiguous.*abc111, abc222/);
      expect(ambiguous.stderr.trimEnd().split('\n')).toHaveLength(1);
      const unknown = await runCli([command, 'zzz', ...d]);
      expect(unknown.code, `${command}: ${unknown.stderr}`).toBe(1);
      expect(unknown.stderr).toMatch(/no session with id "zzz"/);
    }
    // The full id still works even when it is a prefix of nothing else.
    expect((await runCli(['export', 'abc111', ...d])).code).toBe(0);

    const closed = await runCli(['close', 'def', '--json', ...d]);
    expect(closed.code, closed.stderr).toBe(0);
    expect(JSON.parse(closed.stdout)).toEqual({ closed: 'def333' });
    expect((await listed(dataDir)).find((s) => s.id === 'def333')?.state).toBe('closed');
  });

  it('import --json(prints {sessionId} of the new session)', async () => {
    const dataDir = await storeWith([]);
    const file = join(dataDir, 'state.json');
    writeFileSync(file, JSON.stringify({ cookies: [], origins: [] }));
    const r = await runCli(['import', file, '--json', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const { sessionId } = JSON.parse(r.stdout) as { sessionId: string };
    expect((await listed(dataDir)).map((s) => s.id)).toEqual([sessionId]);
  });
});

describe('export --output', () => {
  it('export -o FILE(writes a 0600 file, nothing on stdout; refuses an existing file unless --force)', async () => {
    const dataDir = await storeWith(['one']);
    const file = join(dataDir, 'out.json');
    const first = await runCli(['export', 'one', '-o', file, '--format', 'playwright', '--data-dir', dataDir]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ cookies: [], origins: [{ origin: 'https://a.test', localStorage: [{ name: 'k', value: 'v' }] }] });

    writeFileSync(file, 'mine', { mode: 0o644 });
    const refused = await runCli(['export', 'one', '--output', file, '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exists; pass --force/);
    expect(readFileSync(file, 'utf8')).toBe('mine');

    const forced = await runCli(['export', 'one', '--output', file, '--force', '--json', '--data-dir', dataDir]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ output: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((JSON.parse(readFileSync(file, 'utf8')) as RestoryExport).session.id).toBe('one');
  });

  it('export -o into a missing directory(fails with exit 1 and leaves nothing)', async () => {
    const dataDir = await storeWith(['one']);
    const file = join(dataDir, 'no-such-dir', 'out.json');
    const r = await runCli(['export', 'one', '-o', file, '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write/);
    expect(existsSync(file)).toBe(false);
  });
});

/** `restory start|resume --json` in the foreground, resolved with the one JSON line it prints. */
function startJson(args: string[]): Promise<{ fg: ForegroundCompanion; line: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--json', '--cdp-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? -1)));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!stdout.includes('\n')) return;
      try {
        const line = JSON.parse(stdout.split('\n')[0]) as Record<string, unknown>;
        const fg = { child, sessionId: String(line.sessionId), cdp: String(line.cdpEndpoint), stdout: () => stdout, stderr: () => stderr, exited };
        resolve({ fg, line });
      } catch (e) {
        reject(new Error(`not one JSON line: ${stdout}\n${(e as Error).message}`));
      }
    });
    void exited.then((code) => reject(new Error(`exited (${code}) before printing\nstdout: ${stdout}\nstderr: ${stderr}`)));
  });
}

describe('with a running companion', () => {
  let fg: ForegroundCompanion | undefined;
  afterAll(async () => stopForeground(fg));

  it('start --json, resume --json and prefixes(go through the companion: one JSON line each)', async () => {
    const dataDir = newDataDirPath();
    const d = ['--data-dir', dataDir];
    const started = await startJson(['start', ...d]);
    fg = started.fg;
    expect(Object.keys(started.line).sort()).toEqual(['cdpEndpoint', 'sessionId']);
    expect(started.line.cdpEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect(started.fg.stdout().trim().split('\n')).toHaveLength(1);
    const prefix = started.fg.sessionId.slice(0, 8);

    const snapshots = await runCli(['snapshots', prefix, '--json', ...d]);
    expect(snapshots.code, snapshots.stderr).toBe(0);

    const file = join(dataDir, 'import.json');
    writeFileSync(file, JSON.stringify({ format: 'restory', version: 1, session: { id: 'x', name: 'imported', createdAt: Date.now() }, snapshot: { id: 1, takenAt: Date.now(), reason: 'manual' }, state: stateAt('about:blank') }));
    const imported = await runCli(['import', file, '--json', ...d]);
    expect(imported.code, imported.stderr).toBe(0);
    const { sessionId } = JSON.parse(imported.stdout) as { sessionId: string };

    const resumed = await runCli(['resume', sessionId.slice(0, 8), '--json', '--cdp-port', '0', ...d]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = resumed.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as { sessionId: string; cdpEndpoint: string; report: { snapshotId: number } };
    expect(line.sessionId).toBe(sessionId);
    expect(line.cdpEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect(line.report.snapshotId).toBeGreaterThan(0);

    // Close one while the companion still runs another browser: closing its last one ends the
    // foreground companion, and today that can drop the reply (reported, not fixed here).
    const closed = await runCli(['close', prefix, '--json', ...d]);
    expect(closed.code, closed.stderr).toBe(0);
    expect(JSON.parse(closed.stdout)).toEqual({ closed: started.fg.sessionId });
    expect((await listed(dataDir)).find((s) => s.id === started.fg.sessionId)?.state).toBe('closed');
    expect(await stopForeground(started.fg)).toBe(0);
  }, 240_000);
});
