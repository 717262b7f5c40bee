/**
 * Every file restory writes in the data dir is 0600 and the dir 0700, whatever the umask — temp
 * files of a persist included (seen at the moment they are renamed into place), and files that
 * existed with a looser mode are tightened. The real-session version is test/e2e/security-session.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadOrCreateToken } from '../../companion/socket/token.js';
import { ENC_MAGIC } from '../../companion/store/crypto.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { setLocal } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

/** Temp files seen by renameSync just before they replace their target: mode and first bytes. */
const renamed: { from: string; to: string; mode: number; head: Buffer }[] = [];

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const renameSync: typeof real.renameSync = (from, to) => {
    const head = Buffer.alloc(16);
    const fd = real.openSync(from, 'r');
    real.readSync(fd, head, 0, 16, 0);
    real.closeSync(fd);
    renamed.push({ from: String(from), to: String(to), mode: real.statSync(from).mode & 0o777, head });
    return real.renameSync(from, to);
  };
  return { ...real, renameSync, default: { ...real, renameSync } };
});

let oldUmask: number;
beforeAll(() => {
  // A permissive umask must not loosen anything: modes are explicit, not left to the umask.
  oldUmask = process.umask(0);
});
afterAll(() => {
  process.umask(oldUmask);
});
afterEach(() => {
  renamed.length = 0;
  removeTempDirs();
});

const mode = (path: string) => statSync(path).mode & 0o777;

describe('file modes (umask 000)', () => {
  it('the data dir is 0700; restory.db, journal.log, the lock and every persist temp file are 0600', async () => {
    const dir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir: dir, env: {}, config: { checkpointIntervalMs: 3_600_000 } });
    store.createSession({ name: 's', id: 's' });
    store.applyEvents('s', 'i', [setLocal(1, { k: 'v' })]);
    await store.flush();
    expect(mode(dir)).toBe(0o700);
    for (const name of readdirSync(dir)) expect([name, mode(join(dir, name))]).toEqual([name, 0o600]);
    expect(readdirSync(dir).sort()).toEqual(['companion.lock', 'journal.log', 'restory.db', 'restory.db.sessions']);
    store.checkpoint();
    await store.close();
    const temps = renamed.filter((r) => r.to === join(dir, 'restory.db'));
    expect(temps.length).toBeGreaterThanOrEqual(2);
    for (const t of temps) {
      expect(t.from).toMatch(/\.restory\.db\.tmp-\d+$/);
      expect(t.mode).toBe(0o600);
    }
    for (const name of readdirSync(dir)) expect([name, mode(join(dir, name))]).toEqual([name, 0o600]);
  });

  it('with a key, the persist temp file holds ciphertext, never the plaintext image', async () => {
    const dir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir: dir, env: { RESTORY_KEY: 'c3'.repeat(32) } });
    store.createSession({ name: 's', id: 's' });
    await store.close();
    const temps = renamed.filter((r) => r.to === join(dir, 'restory.db'));
    expect(temps.length).toBeGreaterThanOrEqual(1);
    for (const t of temps) {
      expect(t.mode).toBe(0o600);
      expect(t.head.subarray(0, ENC_MAGIC.length).equals(ENC_MAGIC)).toBe(true);
    }
  });

  it('files found with a looser mode are made 0600 again, and the dir 0700', async () => {
    const dir = newDataDirPath();
    const first = await SqlJsStore.open({ dataDir: dir, env: {} });
    first.createSession({ name: 's', id: 's' });
    await first.close();
    chmodSync(dir, 0o755);
    for (const name of ['restory.db', 'journal.log']) chmodSync(join(dir, name), 0o644);
    const token = join(dir, 'token');
    writeFileSync(token, 'd'.repeat(64) + '\n', { mode: 0o644 });
    const store = await SqlJsStore.open({ dataDir: dir, env: {} });
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'restory.db'))).toBe(0o600);
    expect(mode(join(dir, 'journal.log'))).toBe(0o600);
    expect(loadOrCreateToken(token)).toBe('d'.repeat(64));
    expect(mode(token)).toBe(0o600);
    await store.close();
  });

  it('a new token file is 0600', () => {
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    const token = loadOrCreateToken(join(dir, 'token'));
    expect(readFileSync(join(dir, 'token'), 'utf8').trim()).toBe(token);
    expect(mode(join(dir, 'token'))).toBe(0o600);
  });
});
