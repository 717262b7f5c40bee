/**
 * The stored state: the encryption key, the database and the journal. The encryption check learns
 * the configured key; the database and journal checks take it, to open what it encrypted. Nothing
 * is locked, migrated or written.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import type { DataPaths } from '../../data-dir.js';
import { ENC_MAGIC, isEncrypted, keySourceFromEnv, StoreCipher, type KeySource } from '../../store/crypto.js';
import { integrityCheck } from '../../store/database.js';
import { parseJournal } from '../../store/journal-format.js';
import { LATEST_SCHEMA_VERSION } from '../../store/migrations.js';
import { errorMessage, fail, ok, type CheckResult } from './result.js';
import { shellArg } from './shell.js';

export interface EncryptionAnswer {
  result: CheckResult;
  /** The configured key; null when none is set or it cannot be used (the result then FAILs). */
  key: KeySource | null;
}

/** The key is the environment's; whether one is needed, the data dir's: an encrypted store without it is a FAIL. */
export function checkEncryption(env: NodeJS.ProcessEnv, paths: DataPaths): EncryptionAnswer {
  let key: KeySource | null;
  try {
    key = keySourceFromEnv(env);
  } catch (e) {
    return { result: fail('encryption', errorMessage(e)), key: null };
  }
  if (!key) {
    const encrypted = encryptedFile(paths);
    if (encrypted) {
      return { result: fail('encryption', `${encrypted} is encrypted, but no key is set`, keyFix('no key is set')), key };
    }
    return { result: ok('encryption', 'off (set RESTORY_KEY or RESTORY_KEY_FILE to encrypt the stored state)'), key };
  }
  return { result: ok('encryption', `on: key from ${key.from} (${key.kind === 'raw' ? '32-byte key' : 'passphrase, scrypt'})`), key };
}

/**
 * The store file that is encrypted, if one is: restory.db by its header, else the journal by its
 * first record's (a data dir encrypted since its last checkpoint). An unreadable file counts as not
 * encrypted here; the database and journal checks report why it cannot be read.
 */
function encryptedFile(paths: DataPaths): string | undefined {
  if (isEncrypted(head(paths.db, ENC_MAGIC.length))) return paths.db;
  if (head(paths.journal, 3).toString('latin1') === 'E1 ') return paths.journal;
  return undefined;
}

/** Up to the first `n` bytes of `file`; none when it cannot be read. */
function head(file: string, n: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } catch {
    return Buffer.alloc(0);
  } finally {
    closeSync(fd);
  }
}

/** The fix for a store file that could not be opened because of the encryption key, if that was why. */
function keyFix(message: string): string | undefined {
  if (/no key is set/.test(message)) return 'export RESTORY_KEY=… (or RESTORY_KEY_FILE=…) with the key the data dir was encrypted with';
  if (/wrong RESTORY_KEY/.test(message)) return 'set RESTORY_KEY (or RESTORY_KEY_FILE) to the key the data dir was encrypted with';
  return undefined;
}

/** `key`: what checkEncryption learned. */
export async function checkDatabase(paths: DataPaths, key: KeySource | null): Promise<CheckResult> {
  const file = paths.db;
  let report;
  try {
    report = await integrityCheck(file, key);
  } catch (e) {
    const message = errorMessage(e);
    return fail('database', message, keyFix(message));
  }
  if (!report.exists) return ok('database', `no database yet (${file} is created by the first restory start or import)`);
  if (report.problems.length !== 1 || report.problems[0] !== 'ok') {
    const shown = report.problems.slice(0, 3).join('; ') + (report.problems.length > 3 ? `; … (${report.problems.length} problems)` : '');
    return fail('database', `${file} is damaged: ${shown}`, `mv ${shellArg(file)} ${shellArg(file + '.bad')}   # start with an empty store, or restore a backup`);
  }
  if ((report.schemaVersion ?? 0) > LATEST_SCHEMA_VERSION) {
    return fail('database', `${file} was written by a newer restory (schema ${report.schemaVersion} > ${LATEST_SCHEMA_VERSION})`, 'upgrade restory');
  }
  const kb = Math.max(1, Math.round(report.bytes / 1024));
  const how = report.encrypted ? 'encrypted' : key ? 'not encrypted yet: the next restory start encrypts it' : 'not encrypted';
  return ok('database', `${file}: intact, ${report.sessions} session${report.sessions === 1 ? '' : 's'}, schema ${report.schemaVersion}, ${kb} KiB, ${how}`);
}

/** `key`: what checkEncryption learned. */
export function checkJournal(paths: DataPaths, key: KeySource | null): CheckResult {
  const file = paths.journal;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok('journal', 'empty');
    return fail('journal', `cannot read ${file}: ${errorMessage(e)}`, `chmod 600 ${shellArg(file)}`);
  }
  try {
    const parsed = parseJournal(bytes, file, key ? new StoreCipher(key) : null);
    const records = parsed.records.length;
    const parts = [records === 0 ? 'no pending records' : `${records} record${records === 1 ? '' : 's'} not folded into the database yet`];
    if (parsed.tornBytes > 0) {
      parts.push(`${parsed.tornBytes} bytes of a torn last write (a crash, or a write in progress), dropped at the next open`);
    }
    return ok('journal', `${file}: ${parts.join('; ')}`);
  } catch (e) {
    const message = errorMessage(e);
    const fix = keyFix(message) ?? `mv ${shellArg(file)} ${shellArg(file + '.bad')}   # keeps only what the last checkpoint folded into the database`;
    return fail('journal', message, fix);
  }
}
