import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RestoryError } from '../../../shared/errors.js';
import { resolveSessionId, withBackend, type ExportFormat } from '../backend.js';
import { dataDirOf, intFlag, parseCommand, requirePositional } from '../args.js';
import { SPECS } from '../command-specs.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SPECS.export, argv);
  const idOrPrefix = requirePositional(positionals, 0, 'session id (see: restory list)');
  const format = (values.format ?? 'restory') as ExportFormat;
  const snapshotId = intFlag('snapshot', values.snapshot, 1, Number.MAX_SAFE_INTEGER);
  const output = values.output === undefined ? undefined : resolve(values.output);
  // Checked again when writing (O_EXCL); this only spares reading the store for nothing.
  if (output && !values.force && existsSync(output)) throw exists(output);
  const out = await withBackend(dataDirOf(values), async (backend) =>
    backend.exportSnapshot(await resolveSessionId(backend, idOrPrefix), snapshotId, format),
  );
  process.stderr.write('restory: warning: this export holds cookies and storage — credentials. Keep it private.\n');
  const text = JSON.stringify(out, null, 2) + '\n';
  if (!output) {
    process.stdout.write(text);
    return 0;
  }
  writePrivateFile(output, text, values.force ?? false);
  if (values.json) process.stdout.write(JSON.stringify({ output }) + '\n');
  else process.stderr.write(`restory: wrote ${output} (mode 0600)\n`);
  return 0;
}

/**
 * Owner-only from its first byte (it holds credentials). Without `force` an existing file is never
 * touched (O_EXCL); with it, a fresh 0600 file replaces the old one by rename, so a file that was
 * readable by others does not keep its mode and a failed write leaves the old one whole.
 */
function writePrivateFile(path: string, text: string, force: boolean): void {
  const target = force ? join(dirname(path), `.${basename(path)}.${process.pid}.tmp`) : path;
  let fd: number;
  try {
    fd = openSync(target, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && !force) throw exists(path);
    throw new RestoryError('storage_failed', `cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (force) renameSync(target, path);
  } catch (e) {
    // Ours to remove: created above with O_EXCL.
    rmSync(target, { force: true });
    throw new RestoryError('storage_failed', `cannot write ${path}: ${(e as Error).message}`);
  }
}

function exists(path: string): RestoryError {
  return new RestoryError('storage_failed', `${path} exists; pass --force to overwrite it`);
}
