/**
 * SIGKILL a writer at random points — mid-append, mid-fdatasync, mid-checkpoint — and check that
 * the store always opens and holds every event whose seq was acknowledged before the kill.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { buildStore } from '../helpers/store-build.js';
import { localItems } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const WRITER = resolve(import.meta.dirname, '../helpers/store-writer.mjs');
let build: ReturnType<typeof buildStore>;

beforeAll(() => {
  build = buildStore();
});
afterAll(() => {
  build?.remove();
  removeTempDirs();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run the writer, kill it `killAfterMs` after its first ack (or after spawn), return the highest acked seq. */
async function runAndKill(dataDir: string, run: number, intervalMs: number, killAfterMs: number, waitReady: boolean, mode = ''): Promise<number> {
  const child = spawn(process.execPath, [WRITER, build.storeJs, dataDir, String(run), String(intervalMs), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    // Streaming has begun once the first ack is out; timing from there keeps kills mid-stream even
    // on a loaded machine, where opening the store alone can take longer than the kill delay.
    if (/^ready\n\d+\n/m.test(out)) ready();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  if (waitReady) await Promise.race([readyP, exited]);
  await sleep(killAfterMs);
  child.kill('SIGKILL');
  const code = await exited;
  if (code !== null) throw new Error(`writer exited by itself (${code}): ${err}`);
  const acks = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  return acks.length ? Math.max(...acks) : 0;
}

describe('crash safety', () => {
  it('every acknowledged event survives SIGKILL at random points', async () => {
    const dataDir = newDataDirPath();
    const acked = new Map<number, number>();
    const deadline = Date.now() + 20_000;
    let iterations = 0;
    let totalAcked = 0;
    for (let run = 1; run <= 40 && (iterations < 15 || Date.now() < deadline - 5_000); run++) {
      if (iterations >= 15 && Date.now() > deadline) break;
      // Small checkpoint intervals make kills land inside checkpoints too.
      const interval = [100, 100, 250, 5000][run % 4];
      const early = run % 5 === 0; // sometimes kill while the store is still opening
      const max = await runAndKill(dataDir, run, interval, early ? Math.random() * 200 : 20 + Math.random() * 300, !early);
      acked.set(run, max);
      totalAcked += max;
      iterations++;

      const store = await SqlJsStore.open({ dataDir });
      try {
        const items = store.currentState('crash');
        const have = localItems(items, 'https://crash.test');
        for (const [r, m] of acked) {
          for (let seq = 1; seq <= m; seq++) {
            if (have[`r${r}-${seq}`] === undefined) throw new Error(`run ${r}: acknowledged seq ${seq} of ${m} is lost`);
          }
        }
        if (max > 0) expect(store.captureCursor('crash').instanceId).toBe(`writer-${run}`);
        expect(store.captureCursor('crash').lastSeq).toBeGreaterThanOrEqual(max);
        // Snapshots taken by the writer reopen intact.
        for (const s of store.listSnapshots('crash')) expect(store.getSnapshot('crash', s.id)?.hash).toBe(s.hash);
      } finally {
        await store.close();
      }
    }
    expect(iterations).toBeGreaterThanOrEqual(15);
    // The kills must have landed mid-stream, not only before the first ack: a loaded machine acks
    // fewer events per run, so count the runs that acknowledged something rather than the events.
    expect([...acked.values()].filter((m) => m > 0).length).toBeGreaterThanOrEqual(5);
    expect(totalAcked).toBeGreaterThan(0);
  }, 60_000);

  it('every acknowledged event survives SIGKILL during off-loop checkpoints (rotated journal, worker export, write, rename)', async () => {
    const dataDir = newDataDirPath();
    const acked = new Map<number, number>();
    let rotatedAtKill = 0;
    let workerTempAtKill = 0;
    const deadline = Date.now() + 25_000;
    let iterations = 0;
    for (let run = 1; run <= 30 && (iterations < 10 || (Date.now() < deadline && rotatedAtKill < 3)); run++) {
      const max = await runAndKill(dataDir, run, 5000, 50 + Math.random() * 600, true, 'background');
      acked.set(run, max);
      iterations++;
      // Where the kill landed: a rotated segment means between a rotation and its deletion (the
      // worker replaying, exporting, writing or renaming); the worker's temp file, mid-write.
      if (existsSync(join(dataDir, 'journal.log.rotated'))) rotatedAtKill++;
      if (readdirSync(dataDir).some((f) => f.endsWith('-worker'))) workerTempAtKill++;

      const store = await SqlJsStore.open({ dataDir });
      try {
        const have = localItems(store.currentState('crash'), 'https://crash.test');
        for (const [r, m] of acked) {
          for (let seq = 1; seq <= m; seq++) {
            if (have[`r${r}-${seq}`] === undefined) throw new Error(`run ${r}: acknowledged seq ${seq} of ${m} is lost`);
          }
        }
        expect(store.captureCursor('crash').lastSeq).toBeGreaterThanOrEqual(max);
        expect(Object.keys(localItems(store.currentState('pad'), 'https://pad.test'))).toHaveLength(3);
        for (const s of store.listSnapshots('crash')) expect(store.getSnapshot('crash', s.id)?.hash).toBe(s.hash);
        // The open folded both journal files into restory.db.
        expect(existsSync(join(dataDir, 'journal.log.rotated'))).toBe(false);
      } finally {
        await store.close();
      }
    }
    expect(iterations).toBeGreaterThanOrEqual(10);
    expect([...acked.values()].filter((m) => m > 0).length).toBeGreaterThanOrEqual(5);
    // Most kills land mid-checkpoint (they run back to back); at least some must have.
    expect(rotatedAtKill).toBeGreaterThanOrEqual(3);
    console.log(`off-loop checkpoint kills: ${iterations}, with a rotated segment ${rotatedAtKill}, mid worker write ${workerTempAtKill}`);
  }, 90_000);

  it('a read-only open beside a live writer in another process sees every acknowledged event', async () => {
    const dataDir = newDataDirPath();
    // Checkpoints every 20 ms, so they keep landing between a reader's read of the db and of the journal.
    const child = spawn(process.execPath, [WRITER, build.storeJs, dataDir, '1', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) if (/^\d+$/.test(l)) acked = Math.max(acked, Number(l));
    });
    // Killed however the test ends: on a timeout this function keeps running, and a writer left
    // going grows the store without end (a CI run once spun here for 20 minutes).
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    try {
      while (acked === 0) await sleep(20);
      // Each open loads the whole (growing) store, retrying while checkpoints replace it: a time
      // budget rather than a count keeps this within its timeout on a slow machine.
      const until = Date.now() + 20_000;
      for (let i = 0; i < 60 && (i < 5 || Date.now() < until); i++) {
        const mustSee = acked;
        const reader = await SqlJsStore.open({ dataDir, readOnly: true });
        try {
          expect(reader.captureCursor('crash').lastSeq).toBeGreaterThanOrEqual(mustSee);
        } finally {
          await reader.close();
        }
      }
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);

  it('the lock module works across processes: of several racers for a stale lock exactly one wins', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    const lockFile = join(dir, 'companion.lock');
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
    writeFileSync(lockFile, JSON.stringify({ pid: dead, startedAt: 1, bootId: null, token: 'old' }));
    const script = `
      const { DataDirLock } = await import(${JSON.stringify(`file://${build.lockJs}`)});
      try { DataDirLock.acquire(${JSON.stringify(lockFile)}, 'DIR'); process.stdout.write('won'); }
      catch (e) { process.stdout.write(e.code === 'invalid_state' ? 'lost' : 'error ' + e.message); }
      // Hold (the lock is released at exit) until every racer has tried.
      await new Promise((r) => setTimeout(r, 4000));
    `;
    const outs = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<string>((done) => {
        const c = spawn(process.execPath, ['--input-type=module', '-e', script]);
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.on('close', () => done(out));
      })),
    );
    expect(outs.sort()).toEqual(['lost', 'lost', 'lost', 'lost', 'lost', 'won']);
  });
});
