import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RestoryError } from '../../../shared/errors.js';
import { stateFromImport } from '../../session/import-export.js';
import { withBackend } from '../backend.js';
import { dataDirOf, parseCommand, requirePositional } from '../args.js';
import { SPECS } from '../command-specs.js';


export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(SPECS.import, argv);
  const file = requirePositional(positionals, 0, 'file to import');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RestoryError('bad_message', `cannot read ${file} as JSON: ${(e as Error).message}`);
  }
  const input = stateFromImport(json, basename(file), Date.now());
  if (values.name) input.name = values.name;
  const sessionId = await withBackend(dataDirOf(values), (backend) => backend.import(input));
  process.stdout.write(values.json ? JSON.stringify({ sessionId }) + '\n' : `session ${sessionId}\n`);
  return 0;
}
