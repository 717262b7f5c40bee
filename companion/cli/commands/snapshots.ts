import { resolveSessionId, withBackend } from '../backend.js';
import { ago, dataDirOf, parseCommand, requirePositional } from '../args.js';
import { SPECS } from '../command-specs.js';


export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SPECS.snapshots, argv);
  const idOrPrefix = requirePositional(positionals, 0, 'session id (see: restory list)');
  const rows = await withBackend(dataDirOf(values), async (backend) => backend.snapshots(await resolveSessionId(backend, idOrPrefix)));
  if (values.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else if (rows.length === 0) process.stdout.write('no snapshots yet\n');
  else {
    for (const r of rows) {
      process.stdout.write(
        `${String(r.id).padEnd(6)} ${new Date(r.takenAt).toISOString()} (${ago(r.takenAt)})  ${r.reason.padEnd(10)} ${r.tabs} tabs, ${r.cookies} cookies, ${r.origins} origins  ${r.url ?? ''}\n`,
      );
    }
  }
  return 0;
}
