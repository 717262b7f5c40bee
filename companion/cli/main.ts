/**
 * `restory <command>`: each command is one file in cli/commands/ exporting `usage` and `run`.
 * Errors are printed as one readable line (plus the fix when there is one) and a non-zero exit.
 */
import { RestoryError } from '../../shared/errors.js';
import { UsageError } from './args.js';

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

// Loaded on demand: `start` and `resume` pull in Playwright (~1 s to import), `list` must not.
const COMMANDS: Record<string, () => Promise<Command>> = {
  start: () => import('./commands/start.js'),
  list: () => import('./commands/list.js'),
  resume: () => import('./commands/resume.js'),
  close: () => import('./commands/close.js'),
  snapshots: () => import('./commands/snapshots.js'),
  export: () => import('./commands/export.js'),
  import: () => import('./commands/import.js'),
  'install-host': () => import('./commands/install-host.js'),
  status: () => import('./commands/status.js'),
  doctor: () => import('./commands/doctor.js'),
};

async function help(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return [
    'usage: restory <command> [options]   (every command takes --data-dir DIR; env RESTORY_DATA_DIR)',
    '',
    ...commands.map((c) => '  ' + c.usage),
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await help());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`restory: unknown command "${name}"\n\n${await help()}`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: restory ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`restory ${name}: ${e.message}\nusage: restory ${command.usage}\n`);
      return 2;
    }
    if (e instanceof RestoryError) {
      process.stderr.write(`restory ${name}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`restory ${name}: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
