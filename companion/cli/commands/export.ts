import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { exists, writePrivateFile } from '../../private-file.js';
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
