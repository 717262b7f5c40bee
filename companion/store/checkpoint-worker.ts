/**
 * The checkpoint worker (a worker_thread; started by checkpoint-offload.ts): makes restory.db catch
 * up with the journal without the companion's event loop doing any of the O(database size) work.
 *
 * Measured on the companion's thread at 50 MB, a checkpoint was sql.js `export()` 350–800 ms, write
 * + fsync + rename 150–330 ms and folding the live states ~10 ms. The export must run where the
 * database lives, so shipping bytes from the main thread would leave the largest part on it. This
 * worker therefore keeps its own sql.js copy of the database (a replica, loaded once from
 * restory.db) and brings it forward by replaying the rotated journal segment — the same
 * `applyRecord` the store uses and that replay-at-open relies on, so the replica equals what the
 * companion holds at that LSN. Then it folds its live states, exports, encrypts if a key is set,
 * writes and fsyncs a temp file, and renames it into place under the persist lock
 * (persist-lock.ts) if the disk does not already hold something newer.
 *
 * The cost is memory: a second copy of the database (≈ its size) for the companion's lifetime.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Database } from 'sql.js';
import { RestoryError } from '../../shared/errors.js';
import { applyRecord } from './apply-record.js';
import type { CheckpointReply, CheckpointRequest, WorkerData } from './checkpoint-offload.js';
import { StoreCipher } from './crypto.js';
import { applyConnectionPragmas, readDatabaseFile } from './database.js';
import { renameDurable, writeFileDurable } from './files.js';
import { parseJournal, readJournalFile } from './journal-format.js';
import { LiveStates } from './live-states.js';
import { getMeta, setMeta } from './migrations.js';
import { PersistLock } from './persist-lock.js';
import { writeSessionIndex } from './session-index.js';
import { loadSqlJs } from './sqljs.js';
import { transaction } from './sqljs-rows.js';

// Lowest CPU priority for this thread only (on Linux, setpriority with pid 0 applies to the calling
// thread): a checkpoint finishing late costs nothing, but on a busy machine a worker exporting
// 50 MB at normal priority takes CPU from the companion's thread and delays acknowledgements.
try {
  setPriority(19);
} catch {
  // not permitted here: run at normal priority
}

const data = workerData as WorkerData;
/** Flush the new file in steps of this size, so the journal's fdatasyncs never wait behind one big flush (files.ts). */
const SYNC_EVERY = 4 * 1024 * 1024;
const lock = new PersistLock(data.lock);
// Structured clone turns the key's Buffer into a Uint8Array.
const key = data.key ? { ...data.key, secret: Buffer.from(data.key.secret) } : null;

interface Replica {
  db: Database;
  lives: LiveStates;
  lsn: number;
  cipher: StoreCipher | null;
}
let replica: Replica | null = null;

async function load(): Promise<Replica> {
  replica?.db.close();
  replica = null;
  const SQL = await loadSqlJs();
  const file = readDatabaseFile(data.dbPath, key);
  if (!file.bytes) throw new RestoryError('storage_failed', `${data.dbPath} is missing`);
  const db = new SQL.Database(file.bytes);
  applyConnectionPragmas(db);
  // The companion migrated and persisted the file at open, so no migration is due here.
  return { db, lives: new LiveStates(db, data.dbPath), lsn: Number(getMeta(db, 'journal_lsn') ?? 0), cipher: file.cipher };
}

async function checkpoint(req: CheckpointRequest): Promise<CheckpointReply> {
  const t0 = performance.now();
  let r = replica ?? (replica = await load());
  const segment = parseJournal(readJournalFile(data.rotatedPath), data.rotatedPath, r.cipher);
  let records = segment.records.filter((x) => x.lsn > r.lsn);
  if (records.length > 0 && records[0]!.lsn !== r.lsn + 1) {
    // The companion checkpointed on its own thread meanwhile (close, fallback), truncating records
    // this replica never saw: restory.db holds them, so start again from it.
    r = replica = await load();
    records = segment.records.filter((x) => x.lsn > r.lsn);
    if (records.length > 0 && records[0]!.lsn !== r.lsn + 1) {
      throw new RestoryError('storage_failed', `${data.rotatedPath} starts at LSN ${records[0]!.lsn} but ${data.dbPath} ends at ${r.lsn}`);
    }
  }
  try {
    for (const rec of records) {
      applyRecord(r, rec);
      r.lsn = rec.lsn;
    }
  } catch (e) {
    replica = null; // half-applied: reload before the next checkpoint
    throw e;
  }
  const applied = performance.now();
  if (r.lsn <= lock.diskLsn) return { t: 'done', id: req.id, lsn: r.lsn, bytes: 0, renamed: false, ms: { replay: applied - t0, fold: 0, export: 0, write: 0 } };
  const lsn = r.lsn;
  transaction(r.db, () => {
    r.lives.foldDirty();
    r.lives.evictIdle();
    setMeta(r.db, 'journal_lsn', lsn);
  });
  r.lives.folded();
  const folded = performance.now();
  const plain = r.db.export();
  applyConnectionPragmas(r.db);
  const bytes = r.cipher ? r.cipher.seal(plain, 'restory.db') : plain;
  const exported = performance.now();
  writeFileDurable(data.tempPath, bytes, SYNC_EVERY);
  let renamed = false;
  lock.withLock((diskLsn) => {
    if (lsn <= diskLsn) return diskLsn; // the companion persisted something newer meanwhile
    renameDurable(data.tempPath, data.dbPath);
    writeSessionIndex(r.db, data.dbPath, lsn, r.cipher !== null);
    renamed = true;
    return lsn;
  });
  if (!renamed && existsSync(data.tempPath)) unlinkSync(data.tempPath);
  return {
    t: 'done',
    id: req.id,
    lsn,
    bytes: bytes.length,
    renamed,
    ms: { replay: applied - t0, fold: folded - applied, export: exported - folded, write: performance.now() - exported },
  };
}

// One request at a time, in order (the companion sends one at a time anyway).
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (req: CheckpointRequest) => {
  queue = queue.then(async () => {
    let reply: CheckpointReply;
    try {
      reply = await checkpoint(req);
    } catch (e) {
      reply = { t: 'failed', id: req.id, message: (e as Error).message };
    }
    parentPort!.postMessage(reply);
  });
});
