/**
 * What each command accepts, declared once: `restory --help`, `restory <cmd> --help` and the flag
 * parsing (args.ts) all read it. Nothing here imports more than a constant, so the help and the
 * usage errors print without loading Playwright, zod or sql.js (see the start-up note in main.ts).
 *
 * An option is node:util parseArgs' config plus what the help shows: `value` (the placeholder),
 * `choices` (checked by args.ts, usage error otherwise), `defaultText` (the default as the user sees it), `help`.
 */
export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  value?: string;
  choices?: readonly string[];
  defaultText?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** Positional arguments as the usage line shows them, e.g. `<id>`. */
  args: readonly string[];
  summary: string;
  options: Readonly<Record<string, OptionSpec>>;
}

/** Kept equal to shared/state.ts SessionStatusSchema by test/unit/cli-specs.test.ts. */
export const SESSION_STATES = ['active', 'closed', 'error', 'recoverable', 'stale', 'failed'] as const;
/** Kept equal to native-host/manifest.ts HOST_BROWSERS by test/unit/cli-specs.test.ts. */
export const HOST_BROWSER_NAMES = ['chrome', 'chromium', 'edge', 'brave'] as const;
export const EXPORT_FORMATS = ['restory', 'playwright'] as const;

/** Every command takes these. */
export const COMMON = {
  'data-dir': { type: 'string', value: 'DIR', defaultText: 'env RESTORY_DATA_DIR, else $XDG_DATA_HOME/restory or ~/.local/share/restory', help: 'where sessions are stored' },
  store: { type: 'string', value: 'URL', defaultText: 'env RESTORY_STORE_URL, else the embedded store in the data dir', help: 'a shared PostgreSQL store (postgres://user@host/db) that companions on many machines use' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

const JSON_OUT = { type: 'boolean', help: 'print JSON instead of text' } as const;
const CDP_PORT = { type: 'string', value: 'P', defaultText: '0 (a free port)', help: 'loopback port for the browser\'s CDP endpoint (0-65535)' } as const;
const HEADED = { type: 'boolean', help: 'show the browser window (default: headless)' } as const;
const SNAPSHOT = { type: 'string', value: 'K', defaultText: 'the newest', help: 'snapshot id (see: restory snapshots <id>)' } as const;

export const SPECS = {
  start: {
    name: 'start',
    args: [],
    summary: 'create a session, launch Chromium and run in the foreground until Ctrl-C',
    options: {
      url: { type: 'string', multiple: true, value: 'URL', defaultText: 'about:blank', help: 'open URL in a tab (repeat for more tabs)' },
      name: { type: 'string', value: 'N', defaultText: '"session YYYY-MM-DD HH:MM"', help: 'session name' },
      headed: HEADED,
      'cdp-port': CDP_PORT,
      json: { type: 'boolean', help: 'print {sessionId, cdpEndpoint} as one JSON line' },
    },
  },
  list: {
    name: 'list',
    args: [],
    summary: 'sessions with their state, tabs, URL and snapshot age',
    options: {
      state: { type: 'string', value: 'S', choices: SESSION_STATES, defaultText: 'all states', help: 'only sessions in this state' },
      json: JSON_OUT,
    },
  },
  resume: {
    name: 'resume',
    args: ['<id>'],
    summary: 'relaunch a session with its state restored (an unambiguous id prefix will do)',
    options: {
      snapshot: SNAPSHOT,
      headed: HEADED,
      'cdp-port': CDP_PORT,
      json: { type: 'boolean', help: 'print {sessionId, cdpEndpoint, report} as one JSON line' },
    },
  },
  close: {
    name: 'close',
    args: ['<id>'],
    summary: 'close a session (its browser too, if one runs)',
    options: { json: { type: 'boolean', help: 'print {closed: id}' } },
  },
  snapshots: {
    name: 'snapshots',
    args: ['<id>'],
    summary: 'the stored snapshots of a session, newest first',
    options: { json: JSON_OUT },
  },
  export: {
    name: 'export',
    args: ['<id>'],
    summary: 'a snapshot as JSON (holds cookies: keep it private)',
    options: {
      snapshot: SNAPSHOT,
      format: { type: 'string', value: 'F', choices: EXPORT_FORMATS, defaultText: 'restory', help: 'playwright = a storageState for browser.newContext({ storageState })' },
      output: { type: 'string', short: 'o', value: 'FILE', defaultText: 'stdout', help: 'write to FILE (mode 0600) instead of stdout' },
      force: { type: 'boolean', help: 'with --output: overwrite FILE if it exists' },
      json: { type: 'boolean', help: 'the export is JSON already; accepted for uniformity' },
    },
  },
  import: {
    name: 'import',
    args: ['<file>'],
    summary: 'a Playwright storageState or restory export becomes a new recoverable session',
    options: {
      name: { type: 'string', value: 'N', defaultText: 'the exported session\'s name, else "imported <file name>"', help: 'session name' },
      json: { type: 'boolean', help: 'print {sessionId}' },
    },
  },
  mcp: {
    name: 'mcp',
    args: [],
    summary: 'an MCP server (stdio, or HTTP with --port): Playwright\'s browser tools on a browser that survives restarts, plus session tools',
    options: {
      headed: HEADED,
      resume: { type: 'string', value: 'R', defaultText: 'none (the first browser tool call starts a new session)', help: 'at the first tool call: auto = the running or most recent recoverable session, or a session id (prefix)' },
      port: { type: 'string', value: 'N', defaultText: 'stdio', help: 'serve streamable HTTP at http://127.0.0.1:N/mcp instead of stdio (0 = a free port, printed on stdout); Host and Origin must be loopback' },
      json: { type: 'boolean', help: 'MCP speaks JSON-RPC already; accepted for uniformity' },
    },
  },
  'install-host': {
    name: 'install-host',
    args: [],
    summary: 'register the native host for your own browser',
    options: {
      browser: { type: 'string', value: 'B', choices: HOST_BROWSER_NAMES, defaultText: 'chromium', help: 'which browser to register with' },
      'user-data-dir': {
        type: 'string',
        value: 'DIR',
        help: "register with the profile a browser was started with --user-data-dir DIR (Playwright's launchPersistentContext): such a browser looks only in DIR/NativeMessagingHosts",
      },
      uninstall: { type: 'boolean', help: 'remove the registration instead' },
      json: { type: 'boolean', help: 'print {browser, manifests, extensionDir, dataDir} or {browser, removedFrom}' },
    },
  },
  status: {
    name: 'status',
    args: [],
    summary: 'whether a companion is running for the data dir, and its sessions',
    options: { json: JSON_OUT },
  },
  migrate: {
    name: 'migrate',
    args: [],
    summary: 'copy every session with its snapshots from one store to another (a data dir or a postgres:// URL), verified by hash',
    options: {
      from: { type: 'string', value: 'DIR|URL', help: 'the store to copy from (read only; left as it is)' },
      to: { type: 'string', value: 'DIR|URL', help: 'the store to copy into (sessions it already has are skipped)' },
      json: { type: 'boolean', help: 'print what was moved as JSON' },
    },
  },
  doctor: {
    name: 'doctor',
    args: [],
    summary: 'check browser, extension, native host, companion, lock, database and permissions; say how to fix what is wrong',
    options: { json: JSON_OUT },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof SPECS;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(SPECS, name);
}

/** `export <id> [--snapshot K] [--format F] …`: the one-line usage. */
export function usageLine(spec: CommandSpec): string {
  const opts = Object.entries(spec.options).map(([name, o]) => {
    const flag = o.type === 'string' ? `--${name} ${o.value ?? 'V'}` : `--${name}`;
    return `[${flag}]${o.multiple ? '...' : ''}`;
  });
  return [spec.name, ...spec.args, ...opts].join(' ');
}

/** `restory <cmd> --help`: usage, summary, then every option with its allowed values and default. */
export function commandHelp(spec: CommandSpec): string {
  const rows = Object.entries({ ...spec.options, ...COMMON }).map(([name, o]: [string, OptionSpec]) => {
    const flag = (o.short ? `-${o.short}, ` : '    ') + `--${name}` + (o.type === 'string' ? ` ${o.value ?? 'V'}` : '');
    const notes = [o.help];
    if (o.choices) notes.push(`one of: ${o.choices.join(', ')}`);
    if (o.defaultText) notes.push(`default: ${o.defaultText}`);
    if (o.multiple) notes.push('repeatable');
    return [flag, notes.join('; ')] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    `usage: restory ${usageLine(spec)}`,
    '',
    spec.summary,
    '',
    'options:',
    ...rows.map(([flag, notes]) => `  ${flag.padEnd(width)}  ${notes}`),
    '',
  ].join('\n');
}

/** `restory --help`: the commands, one line each. */
export function mainHelp(): string {
  const specs: CommandSpec[] = Object.values(SPECS);
  const width = Math.max(...specs.map((s) => (s.name + ' ' + s.args.join(' ')).length));
  return [
    'usage: restory <command> [options]',
    '',
    'commands:',
    ...specs.map((s) => `  ${(s.name + ' ' + s.args.join(' ')).trimEnd().padEnd(width)}  ${s.summary}`),
    '',
    'Every command takes --data-dir DIR (env RESTORY_DATA_DIR), --store URL (env RESTORY_STORE_URL) and --json.',
    'restory <command> --help (or restory help <command>) lists its options; restory --version prints the version.',
    '',
  ].join('\n');
}
