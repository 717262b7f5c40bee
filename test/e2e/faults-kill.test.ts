/**
 * SIGKILL the companion 20 times at random points of a write storm, with real processes: after every
 * kill the database opens, and every event the companion acknowledged is in it.
 *
 * - 16 kills of a browserless companion process (test/helpers/companion-process.mjs) fed by a writer
 *   that speaks the real socket protocol as a native host would (auth with the data dir's token,
 *   hello, seq-numbered events, acks; unacknowledged events resent after a reconnect). It knows
 *   exactly what was acknowledged. Every fifth kill lands while the companion is still opening
 *   (journal replay, checkpoint). Checkpoints run every 100 ms, so kills land inside them too.
 * - 4 kills of the real CLI (`restory start`, then `restory resume` of the same session) whose
 *   Chromium runs a page writing localStorage in a loop with a counter. What was acknowledged is
 *   read from the companion's `DEBUG=restory:connection` log ("ack <session> <instance> <seq>").
 *
 * The kill schedule is seeded: RESTORY_FUZZ_SEED=<printed seed> reproduces it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { localItems } from '../helpers/store-fixtures.js';
import { prng, runSeed, sleep, spawnCompanion, StormWriter, startStormSite } from '../helpers/fault-harness.js';
import { crashForeground, startForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';

const SEED = runSeed();
const COMPANION = resolve(import.meta.dirname, '../helpers/companion-process.mjs');
const FAST = { RESTORY_CHECKPOINT_INTERVAL_MS: '100', RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };
const kills = { socket: 0, chromium: 0, acknowledged: 0 };
const parents: string[] = [];

function tempDir(): string {
  const parent = mkdtempSync(join(tmpdir(), 'restory-kill-'));
  parents.push(parent);
  return join(parent, 'data');
}

afterAll(() => {
  console.log(`faults-kill: seed ${SEED}: ${kills.socket + kills.chromium} SIGKILLs survived (${kills.socket} socket writer, ${kills.chromium} Chromium), ${kills.acknowledged} acknowledged events checked, 0 lost`);
  for (const p of parents) rmSync(p, { recursive: true, force: true });
});

/** Open the store read-only, as `restory list` does, and hand it to `check`. */
async function withStore<T>(dataDir: string, check: (store: SqlJsStore) => T): Promise<T> {
  const store = await SqlJsStore.open({ dataDir, readOnly: true });
  try {
    return check(store);
  } finally {
    await store.close();
  }
}

describe(`SIGKILL of the companion during a write storm (seed ${SEED})`, () => {
  it('16 kills with a socket-protocol writer: the store opens every time, no acknowledged event lost', async () => {
    const random = prng(SEED);
    const dataDir = tempDir();
    const writer = new StormWriter(dataDir, 'storm-writer-instance', random);
    let sessionId: string | null = null;
    for (let kill = 1; kill <= 16; kill++) {
      if (kill % 5 === 0) {
        // Kill while the companion opens: replaying the journal, checkpointing, classifying orphans.
        const child = spawn(process.execPath, [COMPANION, dataDir], { env: { ...process.env, ...FAST }, stdio: 'ignore' });
        const exited = new Promise((r) => child.on('exit', r));
        await sleep(50 + random() * 500);
        child.kill('SIGKILL');
        await exited;
      } else {
        const companion = await spawnCompanion(dataDir, FAST);
        await writer.start();
        sessionId ??= writer.sessionId;
        expect(writer.sessionId).toBe(sessionId);
        await sleep(30 + random() * 600);
        expect(await companion.kill('SIGKILL')).toBe('SIGKILL');
        await writer.disconnected();
      }
      kills.socket++;
      if (!sessionId) continue;
      const acked = writer.acked;
      await withStore(dataDir, (store) => {
        const items = localItems(store.currentState(sessionId!), 'https://storm.test');
        const lost: number[] = [];
        for (let s = 1; s <= acked; s++) if (items[`k${s}`] !== `v${s}`) lost.push(s);
        expect(lost, `kill ${kill}: acknowledged seqs missing after SIGKILL (seed ${SEED})`).toEqual([]);
        expect(store.captureCursor(sessionId!).lastSeq).toBeGreaterThanOrEqual(acked);
        // The orphan's recovery snapshot (taken by the next companion) holds them too.
        const snap = store.latestSnapshot(sessionId!);
        if (snap && kill > 1) expect(Object.keys(localItems(snap.state, 'https://storm.test')).length).toBeGreaterThan(0);
      });
    }
    expect(writer.acked).toBeGreaterThan(100);
    kills.acknowledged += writer.acked;

    // And after the storm, an orderly run: everything sent gets acknowledged and stays.
    const last = await spawnCompanion(dataDir, FAST);
    await writer.start();
    await sleep(100);
    await writer.stop();
    await writer.settle();
    writer.close();
    expect(await last.kill('SIGTERM')).toBe(0);
    await withStore(dataDir, (store) => {
      const items = localItems(store.currentState(sessionId!), 'https://storm.test');
      for (let s = 1; s < writer.nextSeq; s++) expect(items[`k${s}`]).toBe(`v${s}`);
    });
    // ~30 s alone; the bound is for a machine busy with the rest of the suite.
  }, 180_000);

  describe('real Chromium writing localStorage in a loop, real CLI companions', () => {
    let site: { origin: string; close(): Promise<void> } | undefined;
    let origin: string;
    let running: ForegroundCompanion | null = null;
    let runningDir = '';

    beforeAll(async () => {
      site = await startStormSite(15);
      origin = site.origin;
    });

    afterAll(async () => {
      if (running) await crashForeground(running, runningDir);
      await site?.close();
    });

    it('4 kills of start/resume: every acknowledged seq is in the store, the counter has no gaps and keeps growing', async () => {
      const random = prng(SEED ^ 0x1b873593);
      const dataDir = (runningDir = tempDir());
      const env = { ...FAST, DEBUG: 'restory:connection' };
      let sessionId = '';
      let previousTop = 0;
      for (let kill = 1; kill <= 4; kill++) {
        running = await startForeground(
          kill === 1 ? ['start', '--data-dir', dataDir, '--url', `${origin}/storm.html`] : ['resume', sessionId, '--data-dir', dataDir],
          env,
        );
        sessionId = running.sessionId;
        await sleep(1000 + random() * 1500);
        expect(await crashForeground(running, dataDir)).toBe('SIGKILL');
        const acks = [...running.stderr().matchAll(/restory:connection ack (\S+) (\S+) (\d+)$/gm)].map((m) => ({
          session: m[1],
          instance: m[2],
          seq: Number(m[3]),
        }));
        running = null;
        expect(acks.length, `kill ${kill}: the companion acknowledged nothing`).toBeGreaterThan(0);
        const newest = acks.at(-1)!;
        expect(newest.session).toBe(sessionId);
        const ackedSeq = Math.max(...acks.filter((a) => a.instance === newest.instance).map((a) => a.seq));
        kills.chromium++;
        kills.acknowledged += ackedSeq;
        await withStore(dataDir, (store) => {
          const cursor = store.captureCursor(sessionId);
          // seq is per extension instance (a resumed browser has a fresh profile, so a new instance).
          expect(cursor.instanceId).toBe(newest.instance);
          expect(cursor.lastSeq, `kill ${kill}: acknowledged seq ${ackedSeq} not in the store`).toBeGreaterThanOrEqual(ackedSeq);
          const items = localItems(store.currentState(sessionId), origin);
          const top = Math.max(0, ...Object.keys(items).filter((k) => /^n\d+$/.test(k)).map((k) => Number(k.slice(1))));
          const gaps = Array.from({ length: top }, (_, i) => i + 1).filter((n) => items[`n${n}`] !== String(n));
          expect(gaps, `kill ${kill}: counter values missing`).toEqual([]);
          // The storm went on after each resume, from where the restored page left off.
          expect(top, `kill ${kill}: the counter did not grow`).toBeGreaterThan(previousTop);
          previousTop = top;
        });
      }
    }, 180_000);
  });
});
