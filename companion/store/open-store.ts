/**
 * The one place that decides which store backs a data dir: the shared PostgreSQL store when a store
 * URL is given (`--store postgres://…`, which the CLI puts into RESTORY_STORE_URL for this
 * process, or the env var itself), else the embedded sql.js store in the data dir.
 *
 * The data dir stays in use with PostgreSQL: the companion's socket, token and browser records
 * live there, and a writer still takes its lock (one companion per data dir, as with sql.js).
 */
import { RestoryError } from '../../shared/errors.js';
import { dataPaths, ensureDataDir } from '../data-dir.js';
import { DataDirLock } from './data-dir-lock.js';
import { isPostgresUrl, STORE_URL_ENV } from './store-url.js';
import type { Store, StoreOptions } from './store.js';

/** The store URL in effect, or undefined for the embedded store; a URL that is not postgres:// is an error. */
export function storeUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env[STORE_URL_ENV]?.trim();
  if (!url) return undefined;
  if (!isPostgresUrl(url)) {
    throw new RestoryError('invalid_state', `${STORE_URL_ENV} (or --store) must be a postgres:// or postgresql:// URL; leave it unset for the embedded store`);
  }
  return url;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  const url = storeUrl(opts.env ?? process.env);
  if (!url) {
    const { SqlJsStore } = await import('./sqljs-store.js');
    return SqlJsStore.open(opts);
  }
  if (opts.inMemoryWrites) {
    throw new RestoryError('internal', 'the PostgreSQL store has no in-memory writes; open it read-only instead');
  }
  const { PgStore } = await import('./pg-store.js');
  let lock: DataDirLock | null = null;
  if (!opts.readOnly) {
    const paths = dataPaths(opts.dataDir);
    ensureDataDir(paths.dir);
    lock = DataDirLock.acquire(paths.lock, paths.dir);
  }
  try {
    const store = await PgStore.open({
      url,
      readOnly: opts.readOnly,
      clock: opts.clock,
      config: opts.config,
      env: opts.env,
      key: opts.key,
      onClose: () => lock?.release(),
    });
    return store;
  } catch (e) {
    lock?.release();
    throw e;
  }
}

/** Whether the store in effect is the shared one. */
export function isSharedStore(env: NodeJS.ProcessEnv = process.env): boolean {
  return storeUrl(env) !== undefined;
}
