/**
 * Data dirs for measuring what `restory resume <id>` of one small session pays for the other
 * sessions of its store: one small `recoverable` session (id `small`, a snapshot of a few KB) beside
 * `others` sessions holding `perSessionMb` of localStorage each (in their live state and in one
 * snapshot's blobs), so the database is about 2 × others × perSessionMb.
 *
 *  - `clean`: every session `recoverable`, the store closed (journal empty), as after a companion
 *    that stopped normally.
 *  - `idle`: the big sessions `active`, the journal empty: a companion killed (or a machine that
 *    lost power) right after a checkpoint, its sessions unchanged since their newest snapshot.
 *  - `killed`: the big sessions `active` with a few events each in the journal past the last
 *    checkpoint, and the writer SIGKILLed: the next companion replays them and finds them orphaned.
 *
 *   node dist/bench/resume-open-fill.js <dataDir> <others> <perSessionMb> clean|idle|killed
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import { NO_TIMER, storageEvent } from './store-fill.js';

export type ResumeDirKind = 'clean' | 'idle' | 'killed';

export const SMALL_SESSION = 'small';

/** `perSessionMb` of localStorage as 100 KB values (incompressible, so the file is that big). */
function bigStorage(n: number, perSessionMb: number): Record<string, string> {
  const set: Record<string, string> = {};
  const values = Math.max(1, Math.round((perSessionMb * 1024 * 1024) / 100_000));
  for (let i = 0; i < values; i++) set[`s${n}-k${i}`] = randomBytes(75_000).toString('base64');
  return set;
}

function tabEvent(seq: number, url: string) {
  return {
    seq,
    at: Date.now(),
    event: {
      kind: 'tabs' as const,
      tabs: [{ tabId: 1, windowId: 1, index: 0, active: true, pinned: false, url, title: url }],
      windows: [{ windowId: 1, state: 'normal' as const, focused: true }],
    },
  };
}

export async function buildResumeDir(dataDir: string, others: number, perSessionMb: number, kind: ResumeDirKind): Promise<number> {
  const store = await SqlJsStore.open({ dataDir, config: NO_TIMER });
  store.createSession({ id: SMALL_SESSION, name: 'small', state: 'active' });
  store.applyEvents(SMALL_SESSION, 'small', [tabEvent(1, 'https://small.test/'), storageEvent(2, { a: 'b'.repeat(2000) }, 'https://small.test')]);
  store.saveSnapshot(SMALL_SESSION, 'interval');
  store.setState(SMALL_SESSION, 'recoverable');
  for (let n = 0; n < others; n++) {
    const id = `big-${n}`;
    store.createSession({ id, name: id, state: 'active' });
    store.applyEvents(id, id, [tabEvent(1, `https://big${n}.test/`), storageEvent(2, bigStorage(n, perSessionMb), `https://big${n}.test`)]);
    store.saveSnapshot(id, 'interval');
    if (kind === 'clean') store.setState(id, 'recoverable');
    store.checkpoint(); // one big session at a time in memory as the file grows
  }
  await store.close();
  return statSync(store.paths.db).size;
}

/** Child of `killed`: a few acknowledged events per big session after the last checkpoint, then SIGKILL. */
async function writeAndDie(dataDir: string, others: number): Promise<never> {
  const store = await SqlJsStore.open({ dataDir, config: NO_TIMER });
  for (let n = 0; n < others; n++) {
    const id = `big-${n}`;
    store.applyEvents(id, id, [storageEvent(10, { after: `kill ${n}` }, `https://big${n}.test`), tabEvent(11, `https://big${n}.test/after`)]);
  }
  await store.flush();
  process.kill(process.pid, 'SIGKILL');
  return new Promise<never>(() => {});
}

if (process.argv[1]?.endsWith('resume-open-fill.js')) {
  const [dataDir, others, perMb, kind, child] = process.argv.slice(2);
  if (child === 'die') await writeAndDie(dataDir, Number(others));
  else {
    const bytes = await buildResumeDir(dataDir, Number(others), Number(perMb), kind as ResumeDirKind);
    if (kind === 'killed') {
      const { spawnSync } = await import('node:child_process');
      spawnSync(process.execPath, [process.argv[1], dataDir, others, perMb, kind, 'die'], { stdio: 'inherit' });
    }
    process.stdout.write(JSON.stringify({ dbBytes: bytes }) + '\n');
  }
}
