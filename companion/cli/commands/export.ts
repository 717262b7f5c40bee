import { z } from 'zod';
import { parseMessage } from '../../../shared/validate.js';
import { withBackend } from '../backend.js';
import { dataDirOf, intFlag, parse, requirePositional } from '../args.js';

export const usage = 'export <id> [--snapshot K] [--format restory|playwright]   print a snapshot as JSON';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { snapshot: { type: 'string' }, format: { type: 'string' } }, 1);
  const sessionId = requirePositional(positionals, 0, 'session id (see: restory list)');
  const format = parseMessage(z.enum(['restory', 'playwright']), values.format ?? 'restory', '--format');
  const snapshotId = intFlag('snapshot', values.snapshot, 1, Number.MAX_SAFE_INTEGER);
  const out = await withBackend(dataDirOf(values), (backend) => backend.exportSnapshot(sessionId, snapshotId, format));
  process.stderr.write('restory: warning: this export holds cookies and storage — credentials. Keep it private.\n');
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return 0;
}
