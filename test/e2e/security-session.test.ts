/**
 * A real session run (real CLI, companion, Chromium, extension, native messaging) under umask 000,
 * with DEBUG=restory:* and encryption at rest on: the data dir stays 0700 and every file in it 0600
 * while it runs and after; the cookie and storage values the page set are captured (export with
 * the key shows them) but appear neither in restory.db nor in journal.log on disk nor in any log;
 * without the key the data dir is refused with a clear message.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { crashForeground, eventually, runCli, startForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import type { RestoryExport } from '../../shared/state.js';
import { tempDir } from '../helpers/temp-dirs.js';

const tag = randomBytes(6).toString('hex');
const LOCAL_VALUE = `local${tag}A`;
const SESSION_VALUE = `session${tag}B`;
const COOKIE_VALUE = `cookie${tag}C`;
const KEY = randomBytes(32).toString('base64');
const env = { DEBUG: 'restory:*', RESTORY_KEY: KEY, RESTORY_KEY_FILE: '', RESTORY_SNAPSHOT_INTERVAL_MS: '1000', RESTORY_CHECKPOINT_INTERVAL_MS: '3600000' };
// No checkpoint while running (only at start and shutdown): the capture sits in journal.log meanwhile.

/** name → mode of every entry of the data dir, and of the browsers/ folder's (the dir itself as "."). */
function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = { '.': (statSync(dir).mode & 0o777).toString(8) };
  for (const name of readdirSync(dir)) out[name] = (statSync(join(dir, name)).mode & 0o777).toString(8);
  const browsers = join(dir, 'browsers');
  if (existsSync(browsers)) for (const name of readdirSync(browsers)) out[`browsers/${name}`] = (statSync(join(browsers, name)).mode & 0o777).toString(8);
  return out;
}

/** Folders 0700, files 0600. */
function ownerOnlyMode(dir: string, name: string): string {
  return statSync(join(dir, name)).isDirectory() ? '700' : '600';
}

function expectOwnerOnly(dir: string): void {
  const m = modes(dir);
  expect(m['.']).toBe('700');
  for (const [name, mode] of Object.entries(m)) if (name !== '.') expect([name, mode]).toEqual([name, ownerOnlyMode(dir, name)]);
}

/** The environments (NUL-split /proc/PID/environ) of this user's processes whose environment holds `marker`. */
function processEnvironments(marker: string): string[][] {
  const out: string[][] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const vars = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (vars.includes(marker)) out.push(vars);
    } catch {
      // gone, or not ours
    }
  }
  return out;
}

describe('a real session: file modes, encryption on disk, clean logs', () => {
  let site: TestSite;
  let dataDir: string;
  let companion: ForegroundCompanion;
  let browser: Browser;
  let oldUmask: number;
  let sidCookie: string;
  let modesWhileRunning: Record<string, string>;
  let journalWhileRunning: Buffer;
  let browserEnvs: string[][];
  let exitCode: number | string;

  beforeAll(async () => {
    oldUmask = process.umask(0); // inherited by the companion: modes must not depend on it
    site = await startTestSite();
    dataDir = tempDir('restory-sec-session-');
    companion = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.originA}/login?user=alice`], env);
    browser = await chromium.connectOverCDP(companion.cdp);
    const context = browser.contexts()[0];
    const page = await eventually(() => context.pages().find((p) => p.url().endsWith('/account')), 15_000, 'the start URL to load');
    await page.goto(`${site.originA}/storage.html`);
    await page.evaluate(
      ([l, s, c]) => {
        localStorage.setItem('apiToken', l);
        sessionStorage.setItem('draft', s);
        document.cookie = `remember=${c}; path=/; max-age=3600`;
      },
      [LOCAL_VALUE, SESSION_VALUE, COOKIE_VALUE],
    );
    sidCookie = (await context.cookies()).find((c) => c.name === 'sid')!.value;
    expect(sidCookie.length).toBeGreaterThan(8);
    // Captured, snapshotted and checkpointed: export (with the key) shows every value.
    await eventually(
      async () => {
        const r = await runCli(['export', companion.sessionId, '--data-dir', dataDir], env);
        if (r.code !== 0) return false;
        const e = JSON.parse(r.stdout) as RestoryExport;
        const values = [...e.state.cookies.map((c) => c.value), ...e.state.origins.flatMap((o) => o.localStorage.map((i) => i.value))];
        const session = e.state.tabs.flatMap((t) => t.sessionStorage.flatMap((s) => s.items.map((i) => i.value)));
        return values.includes(LOCAL_VALUE) && values.includes(COOKIE_VALUE) && values.includes(sidCookie) && session.includes(SESSION_VALUE);
      },
      20_000,
      'the values to be captured into a snapshot',
    );
    modesWhileRunning = modes(dataDir);
    browserEnvs = processEnvironments(`RESTORY_SESSION_ID=${companion.sessionId}`);
    journalWhileRunning = readFileSync(join(dataDir, 'journal.log'));
    await browser.close().catch(() => {});
    companion.child.kill('SIGINT');
    exitCode = await companion.exited;
  }, 120_000);

  afterAll(async () => {
    process.umask(oldUmask);
    await browser?.close().catch(() => {});
    if (companion) await crashForeground(companion, dataDir);
    await site?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('while running: dir 0700, and db, journal, lock, token and socket 0600', () => {
    expect(modesWhileRunning['.']).toBe('700');
    for (const name of ['restory.db', 'journal.log', 'companion.lock', 'token', 'companion.sock']) {
      expect([name, modesWhileRunning[name]]).toEqual([name, '600']);
    }
    // browsers/ (0700) holds this session's browser record (0600) while it runs.
    expect(modesWhileRunning.browsers).toBe('700');
    expect(Object.entries(modesWhileRunning).filter(([n]) => n.startsWith('browsers/')).map(([, m]) => m)).toEqual(['600']);
    for (const [name, mode] of Object.entries(modesWhileRunning)) if (name !== '.' && name !== 'browsers') expect([name, mode]).toEqual([name, '600']);
  });

  it('the key stays in the companion: the browser and native host processes do not get RESTORY_KEY', () => {
    expect(browserEnvs.length).toBeGreaterThan(0); // Chromium (and its helpers, the host) carry the session id
    for (const vars of browserEnvs) expect(vars.filter((v) => v.startsWith('RESTORY_KEY'))).toEqual([]);
  });

  it('after the run: still owner-only, nothing left behind but owner-only files', () => {
    expect(exitCode).toBe(0);
    expectOwnerOnly(dataDir);
    expect(readdirSync(dataDir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('restory.db and journal.log on disk hold none of the values', () => {
    expect(journalWhileRunning.length).toBeGreaterThan(1000);
    expect(journalWhileRunning.subarray(0, 3).toString()).toBe('E1 ');
    for (const v of [LOCAL_VALUE, SESSION_VALUE, COOKIE_VALUE, sidCookie]) expect(journalWhileRunning.includes(v)).toBe(false);
    for (const name of ['restory.db', 'journal.log']) {
      const bytes = readFileSync(join(dataDir, name));
      for (const v of [LOCAL_VALUE, SESSION_VALUE, COOKIE_VALUE, sidCookie]) expect([name, v, bytes.includes(v)]).toEqual([name, v, false]);
    }
    expect(readFileSync(join(dataDir, 'restory.db')).subarray(0, 9).toString('latin1')).toBe('RSTY-ENC1');
  });

  it("the companion's output (DEBUG=restory:*) holds none of the values", () => {
    const logs = companion.stdout() + companion.stderr();
    expect(logs).toMatch(/restory:/);
    for (const v of [LOCAL_VALUE, SESSION_VALUE, COOKIE_VALUE, sidCookie]) expect(logs.includes(v)).toBe(false);
  });

  it('without the key, or with another, the data dir is refused with a clear message', async () => {
    const none = await runCli(['list', '--data-dir', dataDir], { RESTORY_KEY: '', RESTORY_KEY_FILE: '' });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('is encrypted, but no key is set: set RESTORY_KEY or RESTORY_KEY_FILE');
    const wrong = await runCli(['export', companion.sessionId, '--data-dir', dataDir], { RESTORY_KEY: randomBytes(32).toString('hex') });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`cannot decrypt ${join(dataDir, 'restory.db')}: wrong RESTORY_KEY?`);
    expect(wrong.stdout).toBe('');
    const right = await runCli(['list', '--data-dir', dataDir], env);
    expect(right.code).toBe(0);
    expect(right.stdout).toContain(companion.sessionId);
  });
});
