/**
 * The companion's side of the checkpoint worker (checkpoint-worker.ts): where its script is, starting
 * it, and one request/reply at a time.
 *
 * The worker runs compiled JavaScript: from dist/ (and from the tests' private tsc build,
 * test/helpers/store-build.ts) its script sits beside this module. Under vitest this module runs
 * from its .ts source and Node cannot start a worker from TypeScript, so the script in dist/ is
 * used (`npm test` builds first); with neither, `workerScript()` is null and checkpoints stay on the
 * companion's thread as before — slower, never less safe.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RestoryError } from '../../shared/errors.js';
import { projectRoot } from '../project-root.js';
import type { KeySource } from './crypto.js';

export interface WorkerData {
  dbPath: string;
  rotatedPath: string;
  /** The worker's temp file: not the companion's own (tempPathFor), both run in one process. */
  tempPath: string;
  key: KeySource | null;
  /** PersistLock's buffer. */
  lock: SharedArrayBuffer;
}

export interface CheckpointRequest {
  id: number;
}

export type CheckpointReply =
  | {
      t: 'done';
      id: number;
      /** The LSN the worker's replica reached (all of the rotated segment). */
      lsn: number;
      bytes: number;
      /** False when restory.db already held that LSN (the companion persisted meanwhile). */
      renamed: boolean;
      ms: { replay: number; fold: number; export: number; write: number };
    }
  | { t: 'failed'; id: number; message: string };

export type CheckpointDone = Extract<CheckpointReply, { t: 'done' }>;

let cachedScript: URL | null | undefined;

export function workerScript(): URL | null {
  if (cachedScript !== undefined) return cachedScript;
  const beside = new URL('./checkpoint-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return (cachedScript = beside);
  let built: string | null = null;
  try {
    built = join(projectRoot(), 'dist', 'companion', 'store', 'checkpoint-worker.js');
  } catch {
    built = null;
  }
  return (cachedScript = built && existsSync(built) ? pathToFileURL(built) : null);
}

export class CheckpointWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: CheckpointDone) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  constructor(script: URL, data: WorkerData) {
    this.worker = new Worker(script, { workerData: data });
    this.worker.on('message', (reply: CheckpointReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.t === 'done') p.resolve(reply);
      else p.reject(new RestoryError('storage_failed', `checkpoint worker: ${reply.message}`));
    });
    const die = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new RestoryError('storage_failed', `the checkpoint worker exited (${code})`)));
    // An idle worker never keeps the process alive (unref after the listeners: adding a 'message'
    // listener refs the worker's port again); one with a request pending does, so that whoever
    // awaits the checkpoint gets its answer.
    this.worker.unref();
  }

  get alive(): boolean {
    return this.dead === null;
  }

  checkpoint(): Promise<CheckpointDone> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id } satisfies CheckpointRequest);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
