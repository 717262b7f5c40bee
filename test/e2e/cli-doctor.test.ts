/**
 * `restory doctor` through the real CLI: a healthy data dir passes (exit 0), a running companion is
 * found, a corrupt database FAILs (exit 1) with the command that fixes it, a stale lock is a warning,
 * a companion that does not answer FAILs once its time limit passes while the other checks still
 * run, and encryption, permissions and native host registrations are reported. (A missing extension
 * build is not simulated: it would break the other tests running against dist/.)
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_FRAME_SOCKET, PROTOCOL_VERSION } from '../../shared/constants.js';
import { encodeFrame } from '../../shared/frame-codec.js';
import { dataPaths } from '../../companion/data-dir.js';
import { writeHostManifestTo } from '../../companion/native-host/manifest.js';
import { nativeHostScript } from '../../companion/project-root.js';
import { eventually, runCli } from '../helpers/restory-cli.js';
import { deadPid } from '../helpers/processes.js';
import { removeTempDirs, tempDir as tempDataDir } from '../helpers/temp-dirs.js';

const COMPANION = fileURLToPath(new URL('../helpers/companion-process.mjs', import.meta.url));

afterAll(removeTempDirs);

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}
interface Report {
  dataDir: string;
  ok: boolean;
  checks: Check[];
}

/** A home of its own, so the user's real browser registrations do not leak into the result. */
function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDataDir('restory-doctor-home-');
  return { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), RESTORY_KEY: '', RESTORY_KEY_FILE: '', ...extra };
}

async function doctor(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; report: Report; stderr: string }> {
  const r = await runCli(['doctor', '--json', '--data-dir', dataDir], env);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

const check = (report: Report, name: string): Check => {
  const c = report.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check named ${name}: ${report.checks.map((x) => x.name).join(', ')}`);
  return c;
};

/** A data dir with one imported session (restory import: a real store written by the real CLI). */
async function healthyDataDir(env: NodeJS.ProcessEnv): Promise<string> {
  const dataDir = tempDataDir('restory-doctor-');
  const file = join(dataDir, '..', `state-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ cookies: [], origins: [{ origin: 'https://a.test', localStorage: [{ name: 'k', value: 'v' }] }] }));
  const r = await runCli(['import', file, '--data-dir', dataDir], env);
  expect(r.code, r.stderr).toBe(0);
  return dataDir;
}

/**
 * A companion that hangs, in this process: it holds the data dir's socket and token, accepts
 * connections, and either never says a word or admits the client and then answers nothing.
 */
async function hungCompanion(dataDir: string, admit: boolean): Promise<{ socket: string; close: () => Promise<void> }> {
  const paths = dataPaths(dataDir);
  writeFileSync(paths.token, 'a'.repeat(64) + '\n', { mode: 0o600 });
  const clients = new Set<Socket>();
  const server: Server = createServer((conn) => {
    clients.add(conn);
    if (admit) conn.write(encodeFrame({ type: 'auth-ok', v: PROTOCOL_VERSION }, MAX_FRAME_SOCKET));
  });
  await new Promise<void>((resolve) => server.listen(paths.socket, resolve));
  chmodSync(paths.socket, 0o600); // as the real companion leaves it, so the permissions check stays ok
  return {
    socket: paths.socket,
    close: () => {
      for (const c of clients) c.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const NAMES = ['browser', 'extension', 'native host', 'host manifests', 'companion', 'lock', 'encryption', 'database', 'journal', 'permissions'];

describe('restory doctor', () => {
  it('a healthy data dir: every check ok, exit 0, and a readable text report', async () => {
    const env = isolatedEnv();
    const dataDir = await healthyDataDir(env);
    const { code, report } = await doctor(dataDir, env);
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(NAMES);
    expect(check(report, 'browser').message).toMatch(/chromium.*: Chromium \d+/i);
    expect(check(report, 'extension').message).toContain('id dflokkdpfcpmmdfgakkgofakbdkbgilo');
    expect(check(report, 'host manifests').message).toMatch(/^note: not registered/);
    expect(check(report, 'companion').message).toMatch(/^not running/);
    expect(check(report, 'database').message).toMatch(/intact, 1 session, schema \d+, .*not encrypted/);

    const text = await runCli(['doctor', '--data-dir', dataDir], env);
    expect(text.code, text.stdout).toBe(0);
    expect(text.stdout).toMatch(/^ok {4}browser /m);
    expect(text.stdout).toMatch(/^ok {4}database /m);
    expect(text.stdout).toContain('everything looks fine');
  });

  it('finds a running companion and its lock', async () => {
    const env = isolatedEnv();
    const dataDir = await healthyDataDir(env);
    const child = spawn(process.execPath, [COMPANION, dataDir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(() => out.includes('ready'), 20_000, 'the companion to start');
      const { code, report } = await doctor(dataDir, env);
      expect(code).toBe(0);
      expect(check(report, 'companion')).toMatchObject({ status: 'ok', message: expect.stringMatching(new RegExp(`^running \\(pid ${child.pid}, version`)) });
      expect(check(report, 'lock')).toMatchObject({ status: 'ok', message: `held by the running companion (pid ${child.pid})` });
      expect(check(report, 'permissions').status).toBe('ok'); // socket and token included
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('a companion that accepts no client FAILs once its time limit passes; every other check still runs', async () => {
    const env = isolatedEnv();
    const dataDir = await healthyDataDir(env);
    const hung = await hungCompanion(dataDir, false);
    try {
      const { code, report } = await doctor(dataDir, env);
      expect(code).toBe(1);
      expect(report.checks.map((c) => c.name)).toEqual(NAMES);
      expect(check(report, 'companion')).toMatchObject({
        status: 'fail',
        message: `a companion listens on ${hung.socket} but does not answer`,
        fix: 'stop it (see the lock check for its pid) and start it again',
      });
      expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['companion']);
    } finally {
      await hung.close();
    }
  });

  it('a companion that admits the client but answers no status request FAILs once its time limit passes', async () => {
    const env = isolatedEnv();
    const dataDir = await healthyDataDir(env);
    const hung = await hungCompanion(dataDir, true);
    try {
      const { code, report } = await doctor(dataDir, env);
      expect(code).toBe(1);
      expect(check(report, 'companion')).toMatchObject({
        status: 'fail',
        message: `the companion on ${hung.socket} does not answer a status request`,
        fix: 'stop it and start it again',
      });
      expect(check(report, 'lock').status).toBe('ok');
    } finally {
      await hung.close();
    }
  });

  it('a corrupt database FAILs with the command that moves it aside; exit 1', async () => {
    const env = isolatedEnv();
    const dataDir = await healthyDataDir(env);
    const db = join(dataDir, 'restory.db');
    const bytes = readFileSync(db);
    for (let page = 1; page * 4096 < bytes.length; page++) bytes.fill(0xa5, page * 4096, page * 4096 + 64);
    writeFileSync(db, bytes);
    const { code, report } = await doctor(dataDir, env);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(check(report, 'database')).toMatchObject({ status: 'fail', message: expect.stringContaining(`${db} is damaged`), fix: expect.stringContaining(`mv ${db} ${db}.bad`) });
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['database']);
    expect(readFileSync(db).equals(bytes)).toBe(true); // doctor only reads

    const text = await runCli(['doctor', '--data-dir', dataDir], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^FAIL {2}database /m);
    expect(text.stdout).toContain(`fix: mv ${db} ${db}.bad`);
    expect(text.stdout).toMatch(/1 failed/);
  });

  it('a stale lock is a warning (the next start takes it over), not a failure', async () => {
    const env = isolatedEnv();
    const dataDir = await healthyDataDir(env);
    const lock = join(dataDir, 'companion.lock');
    const pid = deadPid();
    writeFileSync(lock, JSON.stringify({ pid, startedAt: 1, bootId: null, token: 'old' }), { mode: 0o600 });
    const { code, report } = await doctor(dataDir, env);
    expect(code).toBe(0);
    expect(check(report, 'lock')).toMatchObject({ status: 'warn', message: expect.stringMatching(new RegExp(`^stale: .*pid ${pid} is not running`)), fix: expect.stringContaining(`rm ${lock}`) });
    expect(readFileSync(lock, 'utf8')).toContain('"old"');

    writeFileSync(lock, JSON.stringify({ pid: process.pid, startedAt: 1, bootId: 'another-boot', token: 'old' }));
    expect(check((await doctor(dataDir, env)).report, 'lock')).toMatchObject({ status: 'warn', message: expect.stringContaining('before the last reboot') });
  });

  it('encryption: an encrypted store without its key FAILs and says what to set; with it, ok; a loose key file FAILs', async () => {
    const key = { RESTORY_KEY: 'doctor test passphrase' };
    const env = isolatedEnv(key);
    const dataDir = await healthyDataDir(env);
    const ok = await doctor(dataDir, env);
    expect(ok.code).toBe(0);
    expect(check(ok.report, 'encryption').message).toBe('on: key from RESTORY_KEY (passphrase, scrypt)');
    expect(check(ok.report, 'database').message).toMatch(/, encrypted$/);

    const noKey = await doctor(dataDir, { ...env, RESTORY_KEY: '' });
    expect(noKey.code).toBe(1);
    // Not "off": the data dir is encrypted, and a key is what it needs.
    expect(check(noKey.report, 'encryption')).toEqual({
      name: 'encryption',
      status: 'fail',
      message: `${join(dataDir, 'restory.db')} is encrypted, but no key is set`,
      fix: expect.stringContaining('RESTORY_KEY'),
    });
    expect(check(noKey.report, 'database')).toMatchObject({ status: 'fail', message: expect.stringContaining('is encrypted, but no key is set'), fix: expect.stringContaining('RESTORY_KEY') });

    const wrong = await doctor(dataDir, { ...env, RESTORY_KEY: 'another passphrase' });
    expect(check(wrong.report, 'database')).toMatchObject({ status: 'fail', message: expect.stringContaining('wrong RESTORY_KEY?') });

    const keyFile = join(dataDir, '..', 'loose.key');
    writeFileSync(keyFile, 'doctor test passphrase\n', { mode: 0o644 });
    chmodSync(keyFile, 0o644);
    const loose = await doctor(dataDir, { ...env, RESTORY_KEY: '', RESTORY_KEY_FILE: keyFile });
    expect(loose.code).toBe(1);
    expect(check(loose.report, 'encryption')).toMatchObject({ status: 'fail', message: expect.stringContaining(`chmod 600 ${keyFile}`) });
  });

  it('loose permissions FAIL with the chmod that fixes them', async () => {
    const env = isolatedEnv();
    const dataDir = await healthyDataDir(env);
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'restory.db'), 0o644);
    const { code, report } = await doctor(dataDir, env);
    expect(code).toBe(1);
    expect(check(report, 'permissions')).toMatchObject({
      status: 'fail',
      fix: `chmod 700 ${dataDir} && chmod 600 ${join(dataDir, 'restory.db')}`,
    });
  });

  it('host registrations of your own browsers: a good one is ok, one whose launcher runs a missing node is a warning', async () => {
    const env = isolatedEnv();
    const dataDir = await healthyDataDir(env);
    const config = env.XDG_CONFIG_HOME!;
    mkdirSync(config, { recursive: true });
    await writeHostManifestTo(join(config, 'chromium', 'NativeMessagingHosts'), { hostScript: nativeHostScript(), env: { RESTORY_DATA_DIR: dataDir } });
    await writeHostManifestTo(join(config, 'BraveSoftware', 'Brave-Browser', 'NativeMessagingHosts'), {
      hostScript: nativeHostScript(),
      nodePath: '/nonexistent/node',
    });
    const { code, report } = await doctor(dataDir, env);
    expect(code).toBe(0);
    expect(check(report, 'host (chromium)')).toMatchObject({ status: 'ok', message: expect.stringContaining('streaming to this data dir') });
    expect(check(report, 'host (brave)')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('runs node at /nonexistent/node, which does not exist'),
      fix: `restory install-host --browser brave --data-dir ${dataDir}`,
    });
  });
});
