/**
 * `restory list`'s fast path: the sessions from the session index (store/session-index.ts) when no
 * companion answers for the data dir, without importing zod or sql.js or reading the database.
 * Null whenever the index cannot answer exactly as the full way would (withBackend: the companion
 * over its socket, else the store opened read-only), and then the caller takes that way.
 */
import { connect } from 'node:net';
import type { SessionSummary } from '../../../shared/state.js';
import { dataDirProblem, dataPaths } from '../../data-dir.js';
import { KEY_ENV, KEY_FILE_ENV } from '../../store/crypto.js';
import { readSessionIndex } from '../../store/session-index.js';
import { STORE_URL_ENV } from '../../store/store-url.js';

export async function sessionsFromIndex(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<SessionSummary[] | null> {
  // The shared store has no index; with a key the index is never written (it would be plaintext),
  // and the full open is what tells a wrong key from a right one.
  if (env[STORE_URL_ENV]?.trim() || env[KEY_ENV] || env[KEY_FILE_ENV]) return null;
  // The full way words the problem (unreadable, not a directory).
  if (dataDirProblem(dataDir, 'read')) return null;
  const paths = dataPaths(dataDir);
  // A running companion holds newer state than the disk (and its sessions' browsers): ask it.
  if (await socketAnswers(paths.socket)) return null;
  return readSessionIndex(paths);
}

/** Whether something accepts connections on the companion's socket (then closed unused). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
