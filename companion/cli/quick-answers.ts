/**
 * What the CLI answers without running a command: `--version`, `--help`, `help [command]`,
 * `<command> --help`, no command at all, an unknown one. main.ts asks here first; bin/restory.js
 * asks this file's CommonJS bundle (dist/cli/quick-answers.cjs) before anything starts Node's ES
 * module loader, which costs Node 20 ~15 ms of CPU to set up — a tenth of the 150 ms these
 * answers may take, with Node's own start at 120–140 ms here (README → CLI start-up).
 */
import { packageVersion } from '../project-root.js';
import { commandHelp, isCommandName, mainHelp, SPECS } from './command-specs.js';

/** The exit code once `argv` is answered here (output written); null when a command must run. */
export function quickAnswer(argv: string[]): number | null {
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
  return null;
}

/** One line on stderr, exit code 2. */
export function usageError(message: string, command?: string): number {
  process.stderr.write(`restory${command ? ' ' + command : ''}: ${message}\n`);
  return 2;
}
