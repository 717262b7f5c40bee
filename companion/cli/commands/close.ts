import { resolveSessionId, withBackend } from '../backend.js';
import { dataDirOf, parseCommand, requirePositional } from '../args.js';
import { SPECS } from '../command-specs.js';


export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SPECS.close, argv);
  const idOrPrefix = requirePositional(positionals, 0, 'session id (see: restory list)');
  const sessionId = await withBackend(dataDirOf(values), async (backend) => {
    const id = await resolveSessionId(backend, idOrPrefix);
    await backend.close(id);
    return id;
  });
  process.stdout.write(values.json ? JSON.stringify({ closed: sessionId }) + '\n' : `closed ${sessionId}\n`);
  return 0;
}
