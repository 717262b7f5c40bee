/** Shared flag handling for every command: node:util parseArgs plus typed, named errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RestoryError } from '../../shared/errors.js';
import { resolveDataDir } from '../data-dir.js';

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export function parse<O extends Options>(
  argv: string[],
  options: O,
  positionals: number,
): { values: ReturnType<typeof parseArgs<{ options: O & typeof COMMON_OPTIONS; allowPositionals: true; strict: true }>>['values']; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument: ${parsed.positionals[positionals]}`);
  }
  return parsed;
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
