/**
 * A data dir that cannot be used is answered with one line that names it and says why — through
 * the real CLI. Not a stack trace, and not the advice for a damaged database (move restory.db
 * aside), which would not help and could lose the file. `doctor` reports the same cause instead of
 * crashing. A directory of the user's that restory did not create is not chmod'ed behind their back.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { BIN, runCli } from '../helpers/restory-cli.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

afterAll(removeTempDirs);

/** What every refusal here must look like: exit 1 or 2, one line on stderr naming `path`. */
function expectOneLineError(r: { code: number | null; stdout: string; stderr: string }, path: string): void {
  expect([1, 2], r.stderr).toContain(r.code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(path);
  expect(r.stderr).not.toMatch(/\n\s+at |unexpected error|aside|mv /);
}

function importFile(dir = join(newDataDirPath(), '..')): string {
  const file = join(dir, 'state.json');
  writeFileSync(file, JSON.stringify({ cookies: [], origins: [{ origin: 'https://a.test', localStorage: [{ name: 'k', value: 'v' }] }] }));
  return file;
}

const ROOT_WITH_SETPRIV = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');

/** The real CLI as uid/gid 65534 (nobody): root reads everything, so EACCES needs another user. */
function runAsNobody(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOME: '/nonexistent' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('data dir errors', () => {
  it('--data-dir pointing at a regular file: one line naming it, for reads, writes and start; doctor reports it', async () => {
    const file = join(newDataDirPath(), '..', 'not-a-dir');
    writeFileSync(file, 'x');
    const imported = importFile();
    for (const args of [['list'], ['status'], ['snapshots', 'x'], ['export', 'x'], ['close', 'x'], ['import', imported], ['start']]) {
      const r = await runCli([...args, '--data-dir', file]);
      expectOneLineError(r, file);
      expect(r.stderr).toContain('not a directory');
    }
    const doctor = await runCli(['doctor', '--json', '--data-dir', file]);
    expect(doctor.code, doctor.stderr).toBe(1);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; message: string; fix?: string }[] }).checks;
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    for (const name of ['lock', 'database', 'journal', 'permissions']) {
      expect(byName[name]).toMatchObject({ status: 'fail', message: expect.stringContaining(`${file} is a file, not a directory`) });
      expect(byName[name].fix).toBeUndefined();
    }
  });

  it.skipIf(!ROOT_WITH_SETPRIV)('a data dir the user cannot read: says so (no "move restory.db aside"); doctor does not crash', async () => {
    const dataDir = newDataDirPath();
    const r = await runCli(['import', importFile(), '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    chmodSync(join(dataDir, '..'), 0o755); // nobody may reach it, not enter it (it is root's, 0700)

    for (const args of [['list'], ['export', 'x'], ['import', importFile(join(dataDir, '..'))]]) {
      const denied = runAsNobody([...args, '--data-dir', dataDir]);
      expectOneLineError(denied, dataDir);
      expect(denied.stderr).toMatch(/is not (readable|writable) by you \(uid 65534\): it belongs to uid 0, mode 0700/);
    }
    const doctor = runAsNobody(['doctor', '--json', '--data-dir', dataDir]);
    expect(doctor.code, doctor.stderr).toBe(1);
    const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; message: string; fix?: string }[] }).checks;
    expect(checks.find((c) => c.name === 'database')).toMatchObject({ status: 'fail', message: expect.stringContaining('is not readable by you') });
    expect(JSON.stringify(checks)).not.toMatch(/aside|mv /);
  });

  it('an existing directory of the user\'s (0755, other files) is refused, not chmod\'ed; the subfolder it suggests works, created 0700', async () => {
    const mine = join(newDataDirPath(), '..', 'mine');
    mkdirSync(mine);
    chmodSync(mine, 0o755);
    writeFileSync(join(mine, 'notes.txt'), 'mine');
    const r = await runCli(['import', importFile(), '--data-dir', mine]);
    expectOneLineError(r, mine);
    expect(r.stderr).toContain('notes.txt');
    expect(r.stderr).toContain(`--data-dir ${join(mine, 'restory')}`);
    expect(statSync(mine).mode & 0o777).toBe(0o755);
    expect(readdirSync(mine)).toEqual(['notes.txt']);

    const sub = await runCli(['import', importFile(), '--data-dir', join(mine, 'restory')]);
    expect(sub.code, sub.stderr).toBe(0);
    expect(statSync(join(mine, 'restory')).mode & 0o777).toBe(0o700);
    expect(statSync(mine).mode & 0o777).toBe(0o755);
  });
});
