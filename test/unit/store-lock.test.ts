import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLock } from '../../companion/store/data-dir-lock.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';

import { deadPid } from '../helpers/processes.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

afterEach(() => removeTempDirs());

describe('data dir lock', () => {
  it('a second read-write open is refused with a message naming the pid; read-only opens are fine', async () => {
    const dir = newDataDirPath();
    const first = await SqlJsStore.open({ dataDir: dir });
    await expect(SqlJsStore.open({ dataDir: dir })).rejects.toMatchObject({
      code: 'invalid_state',
      message: `another restory companion (pid ${process.pid}) is using ${dir}; stop it or use another --data-dir`,
    });
    const ro = await SqlJsStore.open({ dataDir: dir, readOnly: true });
    await ro.close();
    await first.close();
    expect(existsSync(join(dir, 'companion.lock'))).toBe(false);
    const second = await SqlJsStore.open({ dataDir: dir });
    await second.close();
  });

  it('takes over a lock left by a dead process', async () => {
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    const lockFile = join(dir, 'companion.lock');
    writeFileSync(lockFile, JSON.stringify({ pid: deadPid(), startedAt: 1, bootId: null, token: 'old' }));
    const store = await SqlJsStore.open({ dataDir: dir });
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    await store.close();
  });

  it('takes over a lock from before the last reboot even if its pid is alive now', () => {
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    const lockFile = join(dir, 'companion.lock');
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, startedAt: 1, bootId: 'another-boot', token: 'old' }));
    const lock = DataDirLock.acquire(lockFile, dir);
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).token).not.toBe('old');
    lock.release();
    expect(existsSync(lockFile)).toBe(false);
  });
  // Racing processes: see store-crash.test.ts, which has the compiled store at hand.
});
