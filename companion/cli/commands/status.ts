import { withBackend } from '../backend.js';
import { dataDirOf, parseCommand } from '../args.js';
import { SPECS } from '../command-specs.js';
import { storageLimitNote } from '../../../shared/storage-limit-note.js';


export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPECS.status, argv);
  const dataDir = dataDirOf(values);
  const status = await withBackend(dataDir, (backend) => backend.status());
  if (values.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
  else {
    process.stdout.write(status.running ? `companion running (pid ${status.pid}) for ${dataDir}\n` : `no companion running for ${dataDir}\n`);
    const counts = Object.entries(status.sessions).map(([k, v]) => `${v} ${k}`).join(', ');
    process.stdout.write(`sessions: ${counts || 'none'}\n`);
    for (const s of status.storageLimited) process.stdout.write(`session ${s.id}: ${storageLimitNote(s.storageLimit)}\n`);
  }
  return 0;
}
