import { withBackend } from '../backend.js';
import { dataDirOf, parse, requirePositional } from '../args.js';

export const usage = 'close <id>   close a session (its browser too, if a companion runs it)';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, 1);
  const sessionId = requirePositional(positionals, 0, 'session id (see: restory list)');
  await withBackend(dataDirOf(values), (backend) => backend.close(sessionId));
  process.stdout.write(`closed ${sessionId}\n`);
  return 0;
}
