/**
 * `restory <command>`: each command is one file in cli/commands/ exporting `run`; what it accepts
 * is declared in command-specs.ts. Errors are printed as one readable line (plus the fix when there
 * is one): usage errors exit 2, everything else 1.
 *
 * Start-up: this file imports only node builtins and the specs. A command's module is imported
 * when it runs (`start`/`resume` pull in Playwright, the session commands sql.js and zod), so
 * `--help`, `--version` and usage errors print without loading any of them.
 */
import { packageVersion } from '../project-root.js';
import { commandHelp, isCommandName, mainHelp, SPECS, type CommandName } from './command-specs.js';

interface Command {
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  start: () => import('./commands/start.js'),
  list: () => import('./commands/list.js'),
  resume: () => import('./commands/resume.js'),
  close: () => import('./commands/close.js'),
  snapshots: () => import('./commands/snapshots.js'),
  export: () => import('./commands/export.js'),
  import: () => import('./commands/import.js'),
  mcp: () => import('./commands/mcp.js'),
  'install-host': () => import('./commands/install-host.js'),
  status: () => import('./commands/status.js'),
  doctor: () => import('./commands/doctor.js'),
  migrate: () => import('./commands/migrate.js'),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (name === '--help' || name === '-h') {
    process.stdout.write(mainHelp());
    return 0;
  }
  if (name === 'help') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(mainHelp());
    else if (isCommandName(topic)) process.stdout.write(commandHelp(SPECS[topic]));
    else return usageError(`unknown command "${topic}"; see: restory --help`);
    return 0;
  }
  if (!name) {
    process.stderr.write(mainHelp());
    return 2;
  }
  if (!isCommandName(name)) return usageError(`unknown command "${name}"; see: restory --help`);
  // Before the `--` that ends the options, --help anywhere asks for help.
  const options = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (options.includes('--help') || options.includes('-h')) {
    process.stdout.write(commandHelp(SPECS[name]));
    return 0;
  }
  // Imported here, not above: shared/errors.ts loads zod, which --help and --version do without.
  const [{ UsageError }, { RestoryError }] = await Promise.all([import('./args.js'), import('../../shared/errors.js')]);
  const command = await COMMANDS[name]();
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      return usageError(e.message.includes('see:') ? e.message : `${e.message}; see: restory ${name} --help`, name);
    }
    if (e instanceof RestoryError) {
      process.stderr.write(`restory ${name}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`restory ${name}: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

/** One line on stderr, exit code 2. */
function usageError(message: string, command?: string): number {
  process.stderr.write(`restory${command ? ' ' + command : ''}: ${message}\n`);
  return 2;
}
