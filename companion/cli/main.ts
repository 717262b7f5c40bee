/**
 * `restory <command>`: each command is one file in cli/commands/ exporting `run`; what it accepts
 * is declared in command-specs.ts. Errors are printed as one readable line (plus the fix when there
 * is one): usage errors exit 2, everything else 1.
 *
 * Start-up: this file imports only the specs (through quick-answers.ts, which answers --help,
 * --version and unknown commands). A command's module is imported when it runs (`start`/`resume`
 * pull in Playwright, the session commands sql.js and zod), so those answers load none of them.
 */
import type { CommandName } from './command-specs.js';
import { quickAnswer, usageError } from './quick-answers.js';

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
  const answered = quickAnswer(argv);
  if (answered !== null) return answered;
  const [name, ...rest] = argv as [CommandName, ...string[]]; // quickAnswer checked the name
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
