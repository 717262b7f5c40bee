/**
 * Companion configuration: defaults → `config.json` in the data dir → environment overrides.
 * Every key is declared once in FIELDS (range, default, env var); the zod schema and the error
 * messages are derived from it, so a bad value is refused naming its key or variable and the range.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RestoryError } from '../shared/errors.js';
import { assertDataDirUsable, dataPaths } from './data-dir.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MIB = 1024 * 1024;

interface IntField {
  kind: 'int';
  default: number;
  min: number;
  max: number;
  env?: string;
  unit?: string;
}
interface BoolField {
  kind: 'bool';
  default: boolean;
  env?: string;
}

const FIELDS = {
  snapshotIntervalMs: { kind: 'int', default: 30_000, min: 1000, max: DAY, env: 'RESTORY_SNAPSHOT_INTERVAL_MS', unit: 'ms' },
  maxSessionAgeMs: { kind: 'int', default: DAY, min: MINUTE, max: 365 * DAY, env: 'RESTORY_MAX_SESSION_AGE_MS', unit: 'ms' },
  autoResume: { kind: 'bool', default: false, env: 'RESTORY_AUTO_RESUME' },
  snapshotsKept: { kind: 'int', default: 10, min: 1, max: 1000, env: 'RESTORY_SNAPSHOTS_KEPT' },
  /**
   * How often the journal is folded into restory.db. The journal alone makes capture durable, so
   * this only bounds how much a later open replays; each fold costs O(database size) in the worker
   * (25–100 ms of CPU at 50 KB on these machines), which every 5 s was a third of the companion's
   * CPU per page load (issue 11).
   */
  checkpointIntervalMs: { kind: 'int', default: 60_000, min: 100, max: HOUR, env: 'RESTORY_CHECKPOINT_INTERVAL_MS', unit: 'ms' },
  /**
   * Fold early once the journal grows beyond this: what a read-only open (export beside a running
   * companion, list after a crash) replays stays bounded when pages write megabytes, while the many
   * small events of navigation wait for the interval. Each fold is O(database size), so a page
   * writing steadily pays for one per this many bytes (1 MiB made the storage loop of
   * `npm run bench` pay for several folds per run).
   */
  journalMaxBytes: { kind: 'int', default: 4 * MIB, min: 64 * 1024, max: 1024 * MIB, unit: 'bytes' },
  /**
   * Shared (PostgreSQL) store only: how long a companion's claim on a live session lasts without a
   * heartbeat. A session whose owner missed it is recoverable to every companion.
   */
  leaseMs: { kind: 'int', default: 15_000, min: 500, max: HOUR, env: 'RESTORY_LEASE_MS', unit: 'ms' },
  /**
   * Most localStorage, sessionStorage and IndexedDB one session's state may hold, counted as
   * Chromium counts its storage quota (2 bytes per UTF-16 code unit of keys and values; IndexedDB as
   * its captured JSON). Beyond it, storage that would grow the session is not captured (the session
   * is marked, `list` shows it) while everything else is: a page opening many cross-site frames,
   * each filling its own partitioned quota, cannot make the companion hold gigabytes. README →
   * Configuration says why 128 MiB.
   */
  sessionMaxStorageBytes: { kind: 'int', default: 128 * MIB, min: 64 * 1024, max: 4096 * MIB, env: 'RESTORY_SESSION_MAX_STORAGE_BYTES', unit: 'bytes' },
} as const satisfies Record<string, IntField | BoolField>;

type Fields = typeof FIELDS;
export type ConfigKey = keyof Fields;
export type Config = { [K in ConfigKey]: Fields[K] extends BoolField ? boolean : number };

const KEYS = Object.keys(FIELDS) as ConfigKey[];

function fieldSchema(field: IntField | BoolField): z.ZodType {
  return field.kind === 'bool' ? z.boolean() : z.number().int().min(field.min).max(field.max);
}

function expectation(field: IntField | BoolField): string {
  if (field.kind === 'bool') return 'true or false';
  const unit = field.unit ? ` (${field.unit})` : '';
  return `an integer from ${field.min} to ${field.max}${unit}`;
}

export const ConfigSchema = z.strictObject(
  Object.fromEntries(KEYS.map((k) => [k, fieldSchema(FIELDS[k])])) as { [K in ConfigKey]: z.ZodType<Config[K]> },
);

export const DEFAULT_CONFIG: Config = Object.fromEntries(KEYS.map((k) => [k, FIELDS[k].default])) as Config;

function configError(message: string): RestoryError {
  return new RestoryError('invalid_state', message);
}

function checkValue(key: ConfigKey, value: unknown, where: string): void {
  const field: IntField | BoolField = FIELDS[key];
  if (!fieldSchema(field).safeParse(value).success) {
    throw configError(`${where}: ${key} must be ${expectation(field)}, got ${JSON.stringify(value)}`);
  }
}

/** Parse and validate a config.json text; `file` names it in errors. */
export function parseConfigFile(text: string, file: string): Partial<Config> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw configError(`${file} is not valid JSON (${(e as Error).message}); fix or delete it`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw configError(`${file} must hold a JSON object like {"snapshotsKept": 10}`);
  }
  const unknown = Object.keys(raw).filter((k) => !(k in FIELDS));
  if (unknown.length > 0) {
    throw configError(`${file}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; known keys: ${KEYS.join(', ')}`);
  }
  const out: Partial<Config> = {};
  for (const [key, value] of Object.entries(raw) as [ConfigKey, unknown][]) {
    checkValue(key, value, file);
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** The env overrides that are set, validated; an invalid one is refused naming the variable. */
export function envOverrides(env: NodeJS.ProcessEnv): Partial<Config> {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const field: IntField | BoolField = FIELDS[key];
    if (!field.env) continue;
    const text = env[field.env];
    if (text === undefined || text.trim() === '') continue;
    const t = text.trim().toLowerCase();
    let value: unknown;
    if (field.kind === 'bool') value = t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : undefined;
    else value = /^-?\d+$/.test(t) ? Number(t) : undefined;
    if (value === undefined || !fieldSchema(field).safeParse(value).success) {
      const allowed = field.kind === 'bool' ? 'true, false, 1 or 0' : expectation(field);
      throw configError(`environment variable ${field.env} must be ${allowed}, got ${JSON.stringify(text)}`);
    }
    out[key] = value;
  }
  return out as Partial<Config>;
}

/** defaults → `<dataDir>/config.json` (if present) → environment. */
export function loadConfig(dataDir: string, env: NodeJS.ProcessEnv = process.env): Config {
  const file = dataPaths(dataDir).config;
  let fromFile: Partial<Config> = {};
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      assertDataDirUsable(dataDir, 'read'); // name the data dir when it is what is wrong
      throw configError(`cannot read ${file}: ${(e as Error).message}`);
    }
  }
  if (text !== undefined) fromFile = parseConfigFile(text, file);
  return { ...DEFAULT_CONFIG, ...fromFile, ...envOverrides(env) };
}
