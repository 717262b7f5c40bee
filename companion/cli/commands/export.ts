import { withBackend, type ExportFormat } from '../backend.js';
import { dataDirOf, intFlag, parseCommand, requirePositional } from '../args.js';
import { SPECS } from '../command-specs.js';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SPECS.export, argv);
  const sessionId = requirePositional(positionals, 0, 'session id (see: restory list)');
  const format = (values.format ?? 'restory') as ExportFormat;
  const snapshotId = intFlag('snapshot', values.snapshot, 1, Number.MAX_SAFE_INTEGER);
  const out = await withBackend(dataDirOf(values), (backend) => backend.exportSnapshot(sessionId, snapshotId, format));
  process.stderr.write('restory: warning: this export holds cookies and storage — credentials. Keep it private.\n');
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return 0;
}
