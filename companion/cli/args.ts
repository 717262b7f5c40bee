/**
 * Shared flag handling for every command: node:util parseArgs driven by the command's spec
 * (command-specs.ts), plus typed, named usage errors. A UsageError exits 2 (main.ts).
 */
import { parseArgs } from 'node:util';
import { RestoryError } from '../../shared/errors.js';
import { resolveDataDir } from '../data-dir.js';
import { COMMON, type CommandSpec, type OptionSpec } from './command-specs.js';

export class UsageError extends Error {}

type Options = Readonly<Record<string, OptionSpec | { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O & typeof COMMON; allowPositionals: true; strict: true }>>['values'];

/** Parse `argv` for `spec`: its options and every command's common ones, its positional count. */
export function parseCommand<S extends CommandSpec>(spec: S, argv: string[]): { values: Values<S['options']>; positionals: string[] } {
  return parse(argv, spec.options as S['options'], spec.args.length);
}

export function parse<O extends Options>(argv: string[], options: O, positionals: number): { values: Values<O>; positionals: string[] } {
  const all: Options = { ...COMMON, ...options };
  // Only what parseArgs knows: the help's fields (value, choices, defaultText, help) stay out.
  const config = Object.fromEntries(
    Object.entries(all).map(([name, o]) => [name, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs' messages run on ("To specify a positional argument starting with a '-' …").
    throw new UsageError((e as Error).message.split('\n')[0].split('. ')[0].replace(/'/g, '').replace(/\.$/, ''));
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument: ${parsed.positionals[positionals]}`);
  }
  for (const [name, o] of Object.entries(all)) {
    const value = parsed.values[name];
    if ('choices' in o && o.choices && typeof value === 'string' && !o.choices.includes(value)) {
      throw new UsageError(`--${name} must be one of ${o.choices.join(', ')} (got "${value}")`);
    }
  }
  const store = parsed.values.store;
  if (typeof store === 'string') {
    if (!/^postgres(ql)?:\/\//i.test(store)) throw new UsageError('--store must be a postgres:// or postgresql:// URL');
    // The flag is the env var for this process: every store opener (companion, CLI backends, doctor)
    // reads RESTORY_STORE_URL (store/open-store.ts), so no command threads it through by hand.
    process.env.RESTORY_STORE_URL = store;
  }
  return parsed as { values: Values<O>; positionals: string[] };
}

export function dataDirOf(values: { 'data-dir'?: unknown }): string {
  return resolveDataDir({ flag: typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined, env: process.env });
}

export function intFlag(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  return n;
}

/**
 * `--headed` needs a display. Without one Chromium dies at start with a 30-line error, and the
 * session it was started for would be left `failed`: refuse before anything is created.
 */
export function headedFlag(value: unknown, env: NodeJS.ProcessEnv = process.env): boolean | undefined {
  if (value !== true) return undefined;
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) throw new UsageError('--headed needs a display (neither DISPLAY nor WAYLAND_DISPLAY is set); leave it out to run headless');
  return true;
}

export function requirePositional(positionals: string[], index: number, what: string): string {
  const v = positionals[index];
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

export function isRestoryError(e: unknown): e is RestoryError {
  return e instanceof RestoryError;
}

export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
