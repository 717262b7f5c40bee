import { moveSessions } from '../../store/move-sessions.js';
import { parseCommand, UsageError } from '../args.js';
import { SPECS } from '../command-specs.js';
import { redactUrl } from '../../store/store-url.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.migrate, argv);
  if (!values.from || !values.to) throw new UsageError('migrate needs --from and --to (a data dir or a postgres:// URL each)');
  const moved = await moveSessions(values.from, values.to);
  if (values.json) {
    process.stdout.write(JSON.stringify(moved) + '\n');
    return 0;
  }
  for (const m of moved) {
    process.stdout.write(
      m.skipped ? `skipped ${m.id} (${m.name}): ${m.skipped}\n` : `moved ${m.id} (${m.name}): ${m.snapshots.length} snapshot(s), hashes verified\n`,
    );
  }
  process.stdout.write(`${moved.filter((m) => !m.skipped).length} session(s) moved to ${redactUrl(values.to)}\n`);
  return 0;
}
