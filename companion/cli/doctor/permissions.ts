/**
 * Who can read and change the data dir: the dir must be the user's and 0700, every file restory
 * writes in it the user's and 0600 (the state holds cookies and the socket token); config.json
 * only warns when others can change it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DIR_MODE, type DataPaths } from '../../data-dir.js';
import { errorMessage, fail, ok, warn, type CheckResult } from './result.js';
import { shellArg } from './shell.js';

/** The files restory writes into the data dir: each must be 0600 (owner-only) and ours. */
function ownFiles(paths: DataPaths): string[] {
  const temps = existsSync(paths.dir) ? readdirSync(paths.dir).filter((n) => n.startsWith('.restory.db.tmp-')).map((n) => join(paths.dir, n)) : [];
  return [paths.db, paths.journal, paths.lock, paths.token, paths.socket, ...temps];
}

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

export function checkPermissions(paths: DataPaths): CheckResult {
  const { dir } = paths;
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok('permissions', `${dir} does not exist yet (created 0700 by the first restory start)`);
    return fail('permissions', `cannot read ${dir}: ${errorMessage(e)}`);
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  if (uid !== null && st.uid !== uid) problems.push(`${dir} belongs to uid ${st.uid}, not to you (uid ${uid})`);
  if ((st.mode & 0o777) !== DIR_MODE) {
    problems.push(`${dir} is ${octal(st.mode)}, not 0700`);
    fixes.push(`chmod 700 ${shellArg(dir)}`);
  }
  const loose: string[] = [];
  for (const file of ownFiles(paths)) {
    let fst;
    try {
      fst = statSync(file);
    } catch {
      continue; // not written yet
    }
    if (uid !== null && fst.uid !== uid) problems.push(`${file} belongs to uid ${fst.uid}`);
    if ((fst.mode & 0o077) !== 0) {
      problems.push(`${file} is ${octal(fst.mode)}, not 0600`);
      loose.push(shellArg(file));
    }
  }
  if (loose.length > 0) fixes.push(`chmod 600 ${loose.join(' ')}`);
  if (problems.length > 0) return fail('permissions', problems.join('; '), fixes.join(' && ') || undefined);
  try {
    if ((statSync(paths.config).mode & 0o022) !== 0) {
      return warn('permissions', `${paths.config} can be changed by other users`, `chmod 600 ${shellArg(paths.config)}`);
    }
  } catch {
    // no config.json: defaults
  }
  return ok('permissions', `${dir} is 0700 and every file restory wrote in it is 0600`);
}
