/**
 * The browser restory launches does not depend on its companion (companion/browser/spawn-browser.ts):
 * a SIGKILLed companion leaves it running for the automation connected to it, the next companion
 * adopts it and keeps everything it captured meanwhile, and its temporary profile is removed on
 * every way out — Ctrl-C, a double Ctrl-C, and a crash followed by the next start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { RestoryExport, SessionSummary } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { BIN, crashForeground, eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };

interface Record {
  pid: number;
  userDataDir: string;
  cdpEndpoint: string;
}

function records(dataDir: string): Record[] {
  const dir = join(dataDir, 'browsers');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as Record);
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

describe('browser lifecycle (real CLI, real Chromium)', () => {
  let site: TestSite;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    site = await startTestSite();
  });

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await site?.close();
  });

  it('SIGKILL of the companion alone: the browser and its CDP client stay up, the next companion adopts it and keeps the writes made meanwhile', async () => {
    const dataDir = tempDir();
    const first = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.originA}/storage.html`], env);
    cleanups.push(() => crashForeground(first, dataDir));
    const [record] = records(dataDir);
    expect(record.cdpEndpoint).toBe(first.cdp);

    const client = await chromium.connectOverCDP(first.cdp);
    cleanups.push(() => client.close());
    const page = client.contexts()[0].pages().find((p) => p.url().includes('/storage.html'))!;
    await page.evaluate(() => localStorage.setItem('before', 'kill'));

    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // No companion: the browser runs on and the automation keeps working; the extension holds its events.
    await page.evaluate(() => localStorage.setItem('during', 'no companion'));
    expect(await page.evaluate(() => localStorage.getItem('before'))).toBe('kill');
    expect(alive(record.pid)).toBe(true);
    const listed = JSON.parse((await runCli(['list', '--json', '--data-dir', dataDir], env)).stdout) as SessionSummary[];
    expect(listed.find((s) => s.id === first.sessionId)).toMatchObject({ state: 'active', cdpEndpoint: first.cdp });

    const second = await startForeground(['resume', first.sessionId, '--data-dir', dataDir], env);
    cleanups.push(() => stopForeground(second));
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.cdp).toBe(first.cdp);
    expect(second.stderr()).toContain('adopted its running browser');
    // The writes made while no companion ran arrive (the extension reconnects and resends its outbox).
    await eventually(
      async () => {
        const r = await runCli(['export', first.sessionId, '--data-dir', dataDir], env);
        const state = r.code === 0 ? (JSON.parse(r.stdout) as RestoryExport).state : null;
        const items = state?.origins.find((o) => o.origin === site.originA)?.localStorage ?? [];
        return items.some((i) => i.name === 'during') && items.some((i) => i.name === 'before');
      },
      30_000,
      'a snapshot with the writes made while no companion ran',
    );
    // Still one browser: the same process, one record.
    expect(records(dataDir).map((r) => r.pid)).toEqual([record.pid]);
    const status = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir], env)).stdout) as { activeSessions: string[]; browsers: unknown[] };
    expect(status.activeSessions).toEqual([first.sessionId]);
    expect(status.browsers).toEqual([{ sessionId: first.sessionId, cdpEndpoint: first.cdp, pid: record.pid }]);

    // Ctrl-C ends the browser as before.
    await client.close();
    expect(await stopForeground(second)).toBe(0);
    await eventually(() => !alive(record.pid), 10_000, 'the browser to exit');
    expect(existsSync(record.userDataDir)).toBe(false);
    expect(records(dataDir)).toEqual([]);
  }, 180_000);

  it('--cdp-port: a port in use is refused before anything is created; a free one is used as given', async () => {
    const dataDir = tempDir();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => busy.close(r)));
    const port = (busy.address() as AddressInfo).port;
    const r = await runCli(['start', '--data-dir', dataDir, '--cdp-port', String(port)], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${port} is already in use`);
    expect(JSON.parse((await runCli(['list', '--json', '--data-dir', dataDir], env)).stdout)).toEqual([]);
    expect(records(dataDir)).toEqual([]);
    // Once free, that very port is used.
    await new Promise((r) => busy.close(r));
    const c = await startForeground(['start', '--data-dir', dataDir, '--cdp-port', String(port)], env);
    cleanups.push(() => crashForeground(c, dataDir));
    expect(c.cdp).toBe(`http://127.0.0.1:${port}`);
    expect(await stopForeground(c)).toBe(0);
  }, 120_000);

  it('restory close of the only session a foreground start runs: closed, answered, and the companion ends', async () => {
    const dataDir = tempDir();
    const fg = await startForeground(['start', '--data-dir', dataDir], env);
    cleanups.push(() => crashForeground(fg, dataDir));
    const [record] = records(dataDir);
    const r = await runCli(['close', fg.sessionId, '--data-dir', dataDir], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await fg.exited).toBe(0);
    const listed = JSON.parse((await runCli(['list', '--json', '--data-dir', dataDir], env)).stdout) as SessionSummary[];
    expect(listed.find((s) => s.id === fg.sessionId)?.state).toBe('closed');
    expect(alive(record.pid)).toBe(false);
    expect(existsSync(record.userDataDir)).toBe(false);
  }, 120_000);

  it('the temporary profile is removed after Ctrl-C, after a double Ctrl-C, and after a crash at the next start', async () => {
    const dataDir = tempDir();
    // Ctrl-C
    const a = await startForeground(['start', '--data-dir', dataDir], env);
    const [ra] = records(dataDir);
    expect(existsSync(ra.userDataDir)).toBe(true);
    expect(await stopForeground(a)).toBe(0);
    // The pipe may deliver the last lines after 'exit'.
    await eventually(() => a.stderr().includes(`saved — resume with: restory resume ${a.sessionId}`), 5000, 'the resume hint');
    expect(a.stderr()).toContain('Ctrl-C to stop');
    expect(existsSync(ra.userDataDir)).toBe(false);
    expect(alive(ra.pid)).toBe(false);

    // Ctrl-C twice in a row
    const b = await startForeground(['start', '--data-dir', dataDir], env);
    const [rb] = records(dataDir);
    b.child.kill('SIGINT');
    b.child.kill('SIGINT');
    expect(await b.exited).toBe(0);
    expect(existsSync(rb.userDataDir)).toBe(false);
    expect(alive(rb.pid)).toBe(false);

    // A crash (companion and browser SIGKILLed) leaves the profile; the next start removes it.
    const c = await startForeground(['start', '--data-dir', dataDir], env);
    const [rc] = records(dataDir);
    await crashForeground(c, dataDir);
    await eventually(() => !alive(rc.pid), 10_000, 'the browser to die');
    expect(existsSync(rc.userDataDir)).toBe(true);
    const d = await startForeground(['start', '--data-dir', dataDir], env);
    expect(existsSync(rc.userDataDir)).toBe(false);
    expect(records(dataDir).map((r) => r.pid)).not.toContain(rc.pid);
    expect(await stopForeground(d)).toBe(0);
    expect(records(dataDir)).toEqual([]);
  }, 180_000);

  it('resume starts Chromium while the store opens; a resume refused, or a CLI killed meanwhile, leaves no browser, profile or record behind', async () => {
    const dataDir = tempDir();
    const first = await startForeground(['start', '--data-dir', dataDir, '--url', site.originA + '/storage.html'], env);
    const id = first.sessionId;
    expect(await stopForeground(first)).toBe(0);

    // Started before the store opened, and used by the resume: one browser, the recorded one.
    const resumed = await startForeground(['resume', id, '--data-dir', dataDir], env);
    cleanups.push(() => crashForeground(resumed, dataDir));
    await eventually(() => resumed.stderr().includes('Chromium (started before the store opened)'), 5000, 'the prelaunch progress line');
    const [record] = records(dataDir);
    expect(records(dataDir)).toHaveLength(1);
    expect(alive(record.pid)).toBe(true);
    expect(await stopForeground(resumed)).toBe(0);
    expect(alive(record.pid)).toBe(false);
    expect(existsSync(record.userDataDir)).toBe(false);

    // A resume the store refuses (no such session): the browser started for it is ended.
    // Profiles are made in TMPDIR: a private one shows this run's alone (other test files run beside).
    const tmp = tempDir();
    const unknown = '00000000-0000-4000-8000-000000000000';
    const refused = await runCli(['resume', unknown, '--data-dir', dataDir], { ...env, TMPDIR: tmp });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`no session with id "${unknown}"`);
    expect(records(dataDir)).toEqual([]);
    expect(readdirSync(tmp).filter((n) => n.startsWith('restory-profile-'))).toEqual([]);

    // A --cdp-port in use: refused before the session is touched, the browser started for it ended.
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as AddressInfo).port;
    const portRefused = await runCli(['resume', id, '--data-dir', dataDir, '--cdp-port', String(busyPort)], { ...env, TMPDIR: tmp });
    await new Promise((r) => busy.close(r));
    expect(portRefused.code).toBe(1);
    expect(portRefused.stderr).toContain(`127.0.0.1:${busyPort} is already in use`);
    const listed = JSON.parse((await runCli(['list', '--json', '--data-dir', dataDir], env)).stdout) as SessionSummary[];
    expect(listed.find((s) => s.id === id)?.state).toBe('recoverable');
    expect(records(dataDir)).toEqual([]);
    expect(readdirSync(tmp).filter((n) => n.startsWith('restory-profile-'))).toEqual([]);

    // The CLI SIGKILLed once its browser runs: the next companion adopts that browser or ends it.
    const cli = spawn(process.execPath, [BIN, 'resume', id, '--data-dir', dataDir], { stdio: 'ignore', env: { ...process.env, ...env } });
    const [early] = await eventually(() => (records(dataDir).length ? records(dataDir) : null), 30_000, 'the browser record');
    cli.kill('SIGKILL');
    const next = await startForeground(['resume', id, '--data-dir', dataDir], env);
    cleanups.push(() => crashForeground(next, dataDir));
    const now = records(dataDir);
    expect(now).toHaveLength(1);
    if (now[0].pid !== early.pid) {
      await eventually(() => !alive(early.pid), 10_000, 'the orphaned browser to be ended');
      expect(existsSync(early.userDataDir)).toBe(false);
    }
    expect(await stopForeground(next)).toBe(0);
    expect(records(dataDir)).toEqual([]);
  }, 180_000);
});
