/**
 * The companion of this data dir: is one running and answering on its socket, and who holds the
 * data dir's lock. The companion check learns the pid of the companion that answered; the lock
 * check takes it, to tell "held by the running companion" from "held by something that does not
 * answer".
 */
import { existsSync } from 'node:fs';
import { CompanionClient } from '../../socket/client.js';
import type { DataPaths } from '../../data-dir.js';
import { packageVersion } from '../../project-root.js';
import { inspectLock } from '../../store/data-dir-lock.js';
import { errorMessage, fail, ok, warn, type CheckResult } from './result.js';
import { shellArg } from './shell.js';
import { TimeoutError, withTimeout } from './timeout.js';

/** How long the companion may take to accept this client, and then to answer its status request. */
export const COMPANION_ANSWER_TIMEOUT_MS = 5000;

export interface CompanionAnswer {
  result: CheckResult;
  /** Pid of the companion that answered a status request; absent when none did. */
  pid?: number;
}

export async function checkCompanion(dataDir: string, paths: DataPaths): Promise<CompanionAnswer> {
  const { socket, token } = paths;
  const connecting = CompanionClient.connect(dataDir);
  let client: CompanionClient | null;
  try {
    client = await withTimeout(connecting, COMPANION_ANSWER_TIMEOUT_MS, `connecting to ${socket}`);
  } catch (e) {
    if (e instanceof TimeoutError) {
      // We stopped waiting, but a connection that still comes through is ours to close.
      void connecting.then((late) => late?.close(), () => {});
      return { result: fail('companion', `a companion listens on ${socket} but does not answer`, 'stop it (see the lock check for its pid) and start it again') };
    }
    return {
      result: fail(
        'companion',
        `a companion listens on ${socket} but refused this client: ${errorMessage(e)}`,
        `stop that companion and start it again (its token file ${token} may have been replaced)`,
      ),
    };
  }
  if (!client) {
    const leftover = existsSync(socket) ? ` (the socket file is a leftover of a companion that is gone; the next start removes it)` : '';
    return { result: ok('companion', `not running${leftover}; start one with: restory start`) };
  }
  try {
    const status = await withTimeout(client.request('status', {}), COMPANION_ANSWER_TIMEOUT_MS, 'the status request');
    const sessions = status.activeSessions.length;
    const message = `running (pid ${status.pid}, version ${status.version}, ${sessions} browser${sessions === 1 ? '' : 's'})`;
    if (status.version !== packageVersion()) {
      const result = warn('companion', `${message}, but this restory is version ${packageVersion()}`, `restart the companion (kill ${status.pid}, then restory start)`);
      return { result, pid: status.pid };
    }
    return { result: ok('companion', message), pid: status.pid };
  } catch (e) {
    if (e instanceof TimeoutError) return { result: fail('companion', `the companion on ${socket} does not answer a status request`, 'stop it and start it again') };
    return { result: fail('companion', `the companion on ${socket} failed a status request: ${errorMessage(e)}`, 'stop it and start it again') };
  } finally {
    client.close();
  }
}

/** `companionPid`: the pid checkCompanion learned, if a companion answered. */
export function checkLock(paths: DataPaths, companionPid: number | undefined): CheckResult {
  const file = paths.lock;
  let lock;
  try {
    lock = inspectLock(file);
  } catch (e) {
    return fail('lock', `cannot read ${file}: ${errorMessage(e)}`, `chmod 600 ${shellArg(file)}`);
  }
  switch (lock.state) {
    case 'free':
      return ok('lock', 'free (no companion holds this data dir)');
    case 'held':
      if (lock.pid === companionPid) return ok('lock', `held by the running companion (pid ${lock.pid})`);
      return warn(
        'lock',
        `held by pid ${lock.pid}, which does not answer on the socket: a restory command in progress, a companion still starting, or a hung one`,
        `if it stays that way: kill ${lock.pid}`,
      );
    case 'stale':
      return warn(
        'lock',
        `stale: ${file} was left by a companion that is gone (${lock.why}); the next restory start takes it over`,
        `nothing to do, or remove it: rm ${shellArg(file)}`,
      );
  }
}
