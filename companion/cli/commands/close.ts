import { withBackend } from '../backend.js';
import { dataDirOf, parseCommand, requirePositional } from '../args.js';
import { SPECS } from '../command-specs.js';


export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SPECS.close, argv);
  const sessionId = requirePositional(positionals, 0, 'session id (see: restory list)');
  await withBackend(dataDirOf(values), (backend) => backend.close(sessionId));
  process.stdout.write(`closed ${sessionId}\n`);
  return 0;
}
