import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RestoryError } from '../../../shared/errors.js';
import { CompanionClient } from '../../socket/client.js';
import { SqlJsStore } from '../../store/sqljs-store.js';
import { importSession, stateFromImport } from '../../session/import-export.js';
import { dataDirOf, parse, requirePositional } from '../args.js';

export const usage = 'import <file>   a Playwright storageState or restory export becomes a new recoverable session';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { name: { type: 'string' } }, 1);
  const file = requirePositional(positionals, 0, 'file to import');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RestoryError('bad_message', `cannot read ${file} as JSON: ${(e as Error).message}`);
  }
  const input = stateFromImport(json, basename(file), Date.now());
  if (values.name) input.name = values.name;
  const dataDir = dataDirOf(values);
  const client = await CompanionClient.connect(dataDir);
  let sessionId: string;
  if (client) {
    try {
      sessionId = (await client.request('import', input)).sessionId;
    } finally {
      client.close();
    }
  } else {
    const store = await SqlJsStore.open({ dataDir });
    try {
      sessionId = await importSession(store, input);
      await store.flush();
    } finally {
      await store.close();
    }
  }
  process.stdout.write(`session ${sessionId}\n`);
  return 0;
}
