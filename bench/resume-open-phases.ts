/**
 * Where the open of a store goes, phase by phase, for a data dir built by resume-open-fill.ts: the
 * steps of SqlJsStore.open done one at a time with the store's own parts (file read and decrypt,
 * sql.js instantiation, quick_check, migrations, journal parse, replay, the open's checkpoint), then
 * on fresh copies of the dir the whole SqlJsStore.open, orphan classification, the store work of a
 * resume of the small session, and Companion.open. Prints one JSON line.
 *
 *   node --expose-gc dist/bench/resume-open-phases.js <dataDir built by resume-open-fill.js> phases|store|companion
 */
import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Companion } from '../companion/companion.js';
import { dataPaths } from '../companion/data-dir.js';
import { classifyOrphans } from '../companion/session/orphans.js';
import { Checkpointer } from '../companion/store/checkpoint.js';
import { rotatedJournalPath } from '../companion/store/journal.js';
import { applyConnectionPragmas, readDatabaseFile } from '../companion/store/database.js';
import { parseJournals, readJournalFile } from '../companion/store/journal-format.js';
import { LiveStates } from '../companion/store/live-states.js';
import { getMeta, migrate } from '../companion/store/migrations.js';
import { loadSqlJs } from '../companion/store/sqljs.js';
import { SqlJsStore } from '../companion/store/sqljs-store.js';
import { NO_TIMER } from './store-fill.js';
import { SMALL_SESSION } from './resume-open-fill.js';

const gc = () => (globalThis as { gc?: () => void }).gc?.();

function copyOf(dir: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'restory-bench-phases-'));
  // Not the killed writer's lock: its pid may since belong to another process, which would hold it.
  cpSync(dir, path, { recursive: true, filter: (f) => !f.endsWith('companion.lock') });
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

async function timed<T>(into: Record<string, number>, name: string, f: () => T | Promise<T>): Promise<T> {
  gc();
  const t0 = performance.now();
  const out = await f();
  into[name] = performance.now() - t0;
  return out;
}

/** How many live states a LiveStates holds in memory (a private map; this probe only reads its size). */
function loadedCount(lives: LiveStates): number {
  return (lives as unknown as { loaded: Map<string, unknown> }).loaded.size;
}

type Mode = 'phases' | 'store' | 'companion';

async function measure(source: string, mode: Mode): Promise<Record<string, number>> {
  const ms: Record<string, number> = { dbBytes: statSync(dataPaths(source).db).size };
  if (mode === 'phases') await phases(source, ms);
  else if (mode === 'store') await storeSteps(source, ms);
  else await companionOpen(source, ms);
  return ms;
}

/** The steps of SqlJsStore.open, one at a time. */
async function phases(source: string, ms: Record<string, number>): Promise<void> {
  const copy = copyOf(source);
  try {
    const paths = dataPaths(copy.path);
    await timed(ms, 'loadSqlJsModule', () => loadSqlJs());
    const SQL = await loadSqlJs();
    const file = await timed(ms, 'readDecrypt', () => readDatabaseFile(paths.db, null));
    const db = await timed(ms, 'sqljsInstantiate', () => new SQL.Database(file.bytes!));
    await timed(ms, 'quickCheck', () => db.exec('PRAGMA quick_check'));
    await timed(ms, 'pragmasMigrate', () => {
      applyConnectionPragmas(db);
      migrate(db);
    });
    const journals = await timed(ms, 'journalRead', () =>
      [paths.journal, rotatedJournalPath(paths.journal)].map((f) => ({ file: f, bytes: readJournalFile(f) })).filter((j) => j.bytes.length > 0),
    );
    const parsed = await timed(ms, 'journalParse', () => parseJournals(journals, null));
    ms.journalRecords = parsed.records.length;
    const lives = new LiveStates(db, paths.db);
    const checkpointer = new Checkpointer({
      db,
      lives,
      paths,
      cipher: null,
      key: null,
      foldedLsn: Number(getMeta(db, 'journal_lsn') ?? 0),
      checkpointIntervalMs: 3_600_000,
      journalMaxBytes: 1 << 30,
      inMemoryOnly: false,
      isClosed: () => false,
    });
    await timed(ms, 'replay', () => checkpointer.replay(parsed.records));
    ms.liveStatesAfterReplay = loadedCount(lives);
    checkpointer.openJournal();
    if (journals.some((j) => j.bytes.length > 0)) await timed(ms, 'openCheckpoint', () => checkpointer.checkpoint());
    else ms.openCheckpoint = 0;
    await checkpointer.finish();
    db.close();
  } finally {
    copy.remove();
  }
}

/** The whole store open, then what the companion does with it at start-up and for the resume of the small session. */
async function storeSteps(source: string, ms: Record<string, number>): Promise<void> {
  const copy2 = copyOf(source);
  try {
    const store = await timed(ms, 'storeOpenTotal', () => SqlJsStore.open({ dataDir: copy2.path, config: NO_TIMER }));
    const lives = (store as unknown as { lives: LiveStates }).lives;
    ms.liveStatesAfterOpen = loadedCount(lives);
    const orphans = await timed(ms, 'orphans', () => classifyOrphans(store, { now: Date.now(), maxSessionAgeMs: 86_400_000 }));
    ms.orphansFound = orphans.length;
    ms.liveStatesAfterOrphans = loadedCount(lives);
    await timed(ms, 'resumeStoreWork', async () => {
      store.requireSession(SMALL_SESSION);
      const snap = store.requireSnapshot(SMALL_SESSION);
      store.resetLive(SMALL_SESSION, snap.state);
      store.setState(SMALL_SESSION, 'active');
      await store.flush();
    });
    ms.liveStatesAfterResume = loadedCount(lives);
    await timed(ms, 'storeClose', () => store.close());
  } finally {
    copy2.remove();
  }
}

async function companionOpen(source: string, ms: Record<string, number>): Promise<void> {
  const copy3 = copyOf(source);
  try {
    const companion = await timed(ms, 'companionOpen', () => Companion.open({ dataDir: copy3.path, config: NO_TIMER }));
    await timed(ms, 'companionShutdown', () => companion.shutdown());
  } finally {
    copy3.remove();
  }
}

const [dataDir, mode] = process.argv.slice(2);
process.stdout.write(JSON.stringify(await measure(dataDir, (mode ?? 'phases') as Mode)) + '\n');
