/**
 * `restory <command>`: each command is one file in cli/commands/ exporting `usage` and `run`.
 * Errors are printed as one readable line (plus the fix when there is one) and a non-zero exit.
 */
import { RestoryError } from '../../shared/protocol.js';
import { UsageError } from './args.js';
import * as start from './commands/start.js';
import * as list from './commands/list.js';
import * as resume from './commands/resume.js';
import * as close from './commands/close.js';
import * as snapshots from './commands/snapshots.js';
import * as exportCommand from './commands/export.js';
import * as importCommand from './commands/import.js';
import * as installHost from './commands/install-host.js';
import * as status from './commands/status.js';
import * as doctor from './commands/doctor.js';

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  start,
  list,
  resume,
  close,
  snapshots,
  export: exportCommand,
  import: importCommand,
  'install-host': installHost,
  status,
  doctor,
};

function help(): string {
  return [
    'usage: restory <command> [options]   (every command takes --data-dir DIR; env RESTORY_DATA_DIR)',
    '',
    ...Object.values(COMMANDS).map((c) => '  ' + c.usage),
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`restory: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
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
