import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig } from '../../companion/config.js';
import { dataPaths, ensureDataDir, resolveDataDir } from '../../companion/data-dir.js';

let dirs: string[] = [];
function dataDir(config?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'restory-config-'));
  dirs.push(dir);
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('loadConfig', () => {
  it('defaults', () => {
    expect(loadConfig(dataDir(), {})).toEqual({
      snapshotIntervalMs: 30_000,
      maxSessionAgeMs: 86_400_000,
      autoResume: false,
      snapshotsKept: 10,
      checkpointIntervalMs: 60_000,
      journalMaxBytes: 4 * 1024 * 1024,
      leaseMs: 15_000,
      sessionMaxStorageBytes: 128 * 1024 * 1024,
    });
    expect(DEFAULT_CONFIG.snapshotsKept).toBe(10);
    expect(loadConfig(dataDir(), { RESTORY_SESSION_MAX_STORAGE_BYTES: '2097152' }).sessionMaxStorageBytes).toBe(2 * 1024 * 1024);
    expect(() => loadConfig(dataDir(), { RESTORY_SESSION_MAX_STORAGE_BYTES: '10' })).toThrow(/RESTORY_SESSION_MAX_STORAGE_BYTES must be an integer from 65536/);
  });

  it('config.json overrides defaults and env overrides the file', () => {
    const dir = dataDir({ snapshotsKept: 3, autoResume: true, snapshotIntervalMs: 5000 });
    expect(loadConfig(dir, {})).toMatchObject({ snapshotsKept: 3, autoResume: true, snapshotIntervalMs: 5000, maxSessionAgeMs: 86_400_000 });
    const env = {
      RESTORY_SNAPSHOTS_KEPT: '7',
      RESTORY_AUTO_RESUME: '0',
      RESTORY_SNAPSHOT_INTERVAL_MS: '2000',
      RESTORY_MAX_SESSION_AGE_MS: '60000',
      RESTORY_CHECKPOINT_INTERVAL_MS: '250',
    };
    expect(loadConfig(dir, env)).toMatchObject({ snapshotsKept: 7, autoResume: false, snapshotIntervalMs: 2000, maxSessionAgeMs: 60_000, checkpointIntervalMs: 250 });
    expect(loadConfig(dir, { RESTORY_AUTO_RESUME: 'TRUE' }).autoResume).toBe(true);
    expect(loadConfig(dir, { RESTORY_AUTO_RESUME: '1' }).autoResume).toBe(true);
    expect(loadConfig(dir, { RESTORY_SNAPSHOTS_KEPT: '' }).snapshotsKept).toBe(3);
  });

  it.each([
    [{ snapshotIntervalMs: 999 }, 'snapshotIntervalMs must be an integer from 1000 to 86400000 (ms), got 999'],
    [{ snapshotIntervalMs: 86_400_001 }, 'snapshotIntervalMs must be an integer from 1000 to 86400000 (ms), got 86400001'],
    [{ maxSessionAgeMs: 59_999 }, 'maxSessionAgeMs must be an integer from 60000 to'],
    [{ snapshotsKept: 0 }, 'snapshotsKept must be an integer from 1 to 1000, got 0'],
    [{ snapshotsKept: 1001 }, 'snapshotsKept must be an integer from 1 to 1000, got 1001'],
    [{ snapshotsKept: 2.5 }, 'snapshotsKept must be an integer from 1 to 1000, got 2.5'],
    [{ snapshotsKept: '10' }, 'snapshotsKept must be an integer from 1 to 1000, got "10"'],
    [{ autoResume: 'yes' }, 'autoResume must be true or false, got "yes"'],
    [{ checkpointIntervalMs: 50 }, 'checkpointIntervalMs must be an integer from 100 to'],
    [{ journalMaxBytes: 10 }, 'journalMaxBytes must be an integer from 65536 to'],
  ])('config.json %j is refused naming the key and range', (config, message) => {
    const dir = dataDir(config);
    expect(() => loadConfig(dir, {})).toThrow(message);
    expect(() => loadConfig(dir, {})).toThrow(join(dir, 'config.json'));
  });

  it('unknown keys in config.json are refused by name', () => {
    expect(() => loadConfig(dataDir({ snapshotsKept: 2, snapshotInterval: 5 }), {})).toThrow(/unknown key "snapshotInterval"; known keys: snapshotIntervalMs/);
  });

  it('malformed JSON names the file', () => {
    const dir = dataDir('{ "snapshotsKept": 3,');
    expect(() => loadConfig(dir, {})).toThrow(`${join(dir, 'config.json')} is not valid JSON`);
    expect(() => loadConfig(dataDir('[1]'), {})).toThrow(/must hold a JSON object/);
  });

  it.each([
    ['RESTORY_SNAPSHOT_INTERVAL_MS', 'abc', 'environment variable RESTORY_SNAPSHOT_INTERVAL_MS must be an integer from 1000 to 86400000 (ms), got "abc"'],
    ['RESTORY_SNAPSHOT_INTERVAL_MS', '500', 'RESTORY_SNAPSHOT_INTERVAL_MS must be an integer from 1000'],
    ['RESTORY_SNAPSHOTS_KEPT', '1.5', 'RESTORY_SNAPSHOTS_KEPT must be an integer from 1 to 1000, got "1.5"'],
    ['RESTORY_AUTO_RESUME', 'yes', 'RESTORY_AUTO_RESUME must be true, false, 1 or 0, got "yes"'],
    ['RESTORY_MAX_SESSION_AGE_MS', '10', 'RESTORY_MAX_SESSION_AGE_MS must be an integer from 60000'],
    ['RESTORY_CHECKPOINT_INTERVAL_MS', '99', 'RESTORY_CHECKPOINT_INTERVAL_MS must be an integer from 100'],
  ])('env %s=%s is refused naming the variable and range', (name, value, message) => {
    expect(() => loadConfig(dataDir(), { [name]: value })).toThrow(message);
  });
});

describe('data dir', () => {
  it('resolves flag, then RESTORY_DATA_DIR, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(resolveDataDir({ flag: '/x/flag', env: { RESTORY_DATA_DIR: '/x/env' } })).toBe('/x/flag');
    expect(resolveDataDir({ flag: 'rel', env: {} })).toBe(join(process.cwd(), 'rel'));
    expect(resolveDataDir({ env: { RESTORY_DATA_DIR: '/x/env', XDG_DATA_HOME: '/x/xdg' } })).toBe('/x/env');
    expect(resolveDataDir({ env: { XDG_DATA_HOME: '/x/xdg', HOME: '/home/u' } })).toBe('/x/xdg/restory');
    expect(resolveDataDir({ env: { HOME: '/home/u' } })).toBe('/home/u/.local/share/restory');
    expect(resolveDataDir({ env: { XDG_DATA_HOME: 'relative', HOME: '/home/u' } })).toBe('/home/u/.local/share/restory');
  });

  it('ensureDataDir creates 0700 and tightens a looser existing dir', () => {
    const parent = dataDir();
    const fresh = join(parent, 'a', 'b');
    ensureDataDir(fresh);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    const loose = join(parent, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    writeFileSync(join(loose, 'restory.db'), '');
    ensureDataDir(loose);
    expect(statSync(loose).mode & 0o777).toBe(0o700);
  });

  it('ensureDataDir refuses a loose existing dir holding files of the user\'s, leaving its mode, and names a subfolder', () => {
    const mine = join(dataDir(), 'mine');
    mkdirSync(mine, { recursive: true, mode: 0o755 });
    chmodSync(mine, 0o755);
    writeFileSync(join(mine, 'notes.txt'), 'x');
    expect(() => ensureDataDir(mine)).toThrow(`Use a subfolder restory creates itself: --data-dir ${join(mine, 'restory')}`);
    expect(statSync(mine).mode & 0o777).toBe(0o755);
    // Already 0700: nothing to change, nothing to refuse.
    chmodSync(mine, 0o700);
    expect(ensureDataDir(mine)).toBe(mine);
  });

  it('ensureDataDir names a file in the way instead of failing with EEXIST', () => {
    const file = join(dataDir(), 'file');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'x');
    expect(() => ensureDataDir(file)).toThrow(`data dir ${file} is a file, not a directory`);
  });

  it('dataPaths', () => {
    expect(dataPaths('/d')).toEqual({
      dir: '/d', db: '/d/restory.db', journal: '/d/journal.log', lock: '/d/companion.lock', socket: '/d/companion.sock',
      token: '/d/token', config: '/d/config.json', browsers: '/d/browsers', chromiumMemo: '/d/playwright-chromium.json',
    });
  });
});
