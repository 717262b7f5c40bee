/**
 * Connecting to the shared PostgreSQL store: the pool, and which errors mean "the server is unreachable, try again" rather
 * than "this statement is wrong".
 */
import pg from 'pg';
import { RestoryError } from '../../shared/errors.js';
import { redactUrl } from './store-url.js';

export function createPool(url: string): pg.Pool {
  // Few connections: one companion writes through one queue; reads are short.
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 10_000 });
  // An idle client whose server went away emits 'error' on the pool; without a listener that
  // would kill the companion. The next query reconnects (or reports the outage).
  pool.on('error', () => {});
  // Same for a client checked out between two statements: its query fails and reports the outage.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT', // a unix socket that is not there (yet)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** Whether `e` is worth retrying the whole transaction for: the connection, not the statement. */
export function isRetryable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as Error & { code?: unknown }).code;
  if (typeof code === 'string' && (RETRYABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message);
}

/** One line for an unreachable server: where (without password) and why. */
export function unreachable(where: string, e: unknown): RestoryError {
  const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new RestoryError('storage_failed', `cannot reach the PostgreSQL store at ${where}: ${why}`, { cause: e });
}
