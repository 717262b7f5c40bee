/**
 * IndexedDB as restory stores, restores and exports it: one origin's databases with their version,
 * object stores (key path, auto-increment), indexes and records.
 *
 * The shape is exactly Playwright's (`context.storageState({ indexedDB: true })`, playwright-core's
 * `IndexedDBDatabase`), so the `playwright` export is a projection and `newContext({ storageState })`
 * reads it: a record holds its key only when the store has no key path (`key` if it is plain JSON,
 * else `keyEncoded`), and its value as `value` (plain JSON) or `valueEncoded` (tagged, below).
 *
 * Tagged values (shared/indexeddb-value.ts encodes and decodes them) are Playwright's
 * serializeAsCallArgument form with extended serialisation — `{v:'undefined'|'null'|'NaN'|
 * 'Infinity'|'-Infinity'|'-0'}`, `{d: ISO date}`, `{u: URL}`, `{bi: bigint}`, `{r:{p,f}}` RegExp,
 * `{e:{n,m,s}}` Error, `{ta:{b: base64, k: kind}}` typed array, `{ab:{b}}` ArrayBuffer,
 * `{a:[…], id}` array, `{o:[{k,v}], id}` object, `{m:[{k,v}], id}` Map, `{s:[…], id}` Set,
 * `{ref: id}` a value met before (shared references and cycles survive) — plus one tag of restory's
 * own, `{blob:{b, type, name?, lastModified?}}` for Blob and File, which Playwright's format cannot
 * hold (its own capture turns a Blob into `{}`).
 */
import { z } from 'zod';

export { INDEXEDDB_ORIGIN_CAP_CHARS } from './constants.js';

const TYPED_ARRAY_KINDS = ['i8', 'ui8', 'ui8c', 'i16', 'ui16', 'i32', 'ui32', 'f32', 'f64', 'bi64', 'bui64'] as const;
export const TypedArrayKindSchema = z.enum(TYPED_ARRAY_KINDS);
export type TypedArrayKind = z.infer<typeof TypedArrayKindSchema>;

export type EncodedValue =
  | string
  | number
  | boolean
  | { v: 'undefined' | 'null' | 'NaN' | 'Infinity' | '-Infinity' | '-0' }
  | { d: string }
  | { u: string }
  | { bi: string }
  | { r: { p: string; f: string } }
  | { e: { n: string; m: string; s?: string } }
  | { ta: { b: string; k: TypedArrayKind } }
  | { ab: { b: string } }
  | { blob: { b: string; type: string; name?: string; lastModified?: number } }
  | { a: EncodedValue[]; id: number }
  | { o: { k: string; v: EncodedValue }[]; id: number }
  | { m: { k: EncodedValue; v: EncodedValue }[]; id: number }
  | { s: EncodedValue[]; id: number }
  | { ref: number };

export const EncodedValueSchema: z.ZodType<EncodedValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.strictObject({ v: z.enum(['undefined', 'null', 'NaN', 'Infinity', '-Infinity', '-0']) }),
    z.strictObject({ d: z.string() }),
    z.strictObject({ u: z.string() }),
    z.strictObject({ bi: z.string().regex(/^-?\d+$/) }),
    z.strictObject({ r: z.object({ p: z.string(), f: z.string() }) }),
    z.strictObject({ e: z.object({ n: z.string(), m: z.string(), s: z.string().optional() }) }),
    z.strictObject({ ta: z.object({ b: z.string(), k: TypedArrayKindSchema }) }),
    z.strictObject({ ab: z.object({ b: z.string() }) }),
    z.strictObject({ blob: z.object({ b: z.string(), type: z.string(), name: z.string().optional(), lastModified: z.number().optional() }) }),
    z.strictObject({ a: z.array(EncodedValueSchema), id: z.number().int() }),
    z.strictObject({ o: z.array(z.object({ k: z.string(), v: EncodedValueSchema })), id: z.number().int() }),
    z.strictObject({ m: z.array(z.object({ k: EncodedValueSchema, v: EncodedValueSchema })), id: z.number().int() }),
    z.strictObject({ s: z.array(EncodedValueSchema), id: z.number().int() }),
    z.strictObject({ ref: z.number().int() }),
  ]),
);

/** Plain JSON: null, strings, finite numbers, booleans, arrays and plain objects of them. */
export type Json = null | string | number | boolean | Json[] | { [key: string]: Json };

function isJson(value: unknown, depth = 0): value is Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth > 1000) return false;
  if (Array.isArray(value)) return value.every((item) => isJson(item, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(value)) if (!isJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

/**
 * Plain JSON (what `key` and `value` hold: Playwright's "trivial" values). Checked in place, not
 * with z.json(): its z.record copies objects key by key and drops a `__proto__` key, which a page
 * may store like any other (capture-events.ts, StorageItemsSchema).
 */
const JsonSchema = z.custom<Json>((v) => isJson(v), { message: 'expected plain JSON' });

export const IndexedDBRecordSchema = z
  .object({
    key: JsonSchema.optional(),
    keyEncoded: EncodedValueSchema.optional(),
    value: JsonSchema.optional(),
    valueEncoded: EncodedValueSchema.optional(),
  })
  .refine((r) => r.value !== undefined || r.valueEncoded !== undefined, { message: 'a record needs value or valueEncoded' });
export type IndexedDBRecord = z.infer<typeof IndexedDBRecordSchema>;

export const IndexedDBIndexSchema = z.object({
  name: z.string(),
  keyPath: z.string().optional(),
  keyPathArray: z.array(z.string()).optional(),
  multiEntry: z.boolean(),
  unique: z.boolean(),
});
export type IndexedDBIndex = z.infer<typeof IndexedDBIndexSchema>;

export const IndexedDBStoreSchema = z.object({
  name: z.string(),
  autoIncrement: z.boolean(),
  keyPath: z.string().optional(),
  keyPathArray: z.array(z.string()).optional(),
  records: z.array(IndexedDBRecordSchema),
  indexes: z.array(IndexedDBIndexSchema),
});
export type IndexedDBStore = z.infer<typeof IndexedDBStoreSchema>;

export const IndexedDBDatabaseSchema = z.object({
  name: z.string().min(1),
  version: z.number().int().positive(),
  stores: z.array(IndexedDBStoreSchema),
});
export type IndexedDBDatabase = z.infer<typeof IndexedDBDatabaseSchema>;

/** Changes to one store's records by position (shared/indexeddb-delta.ts makes and applies them). */
export const IndexedDBSpliceSchema = z.object({
  /** Position in the store's records before the change (splices are in increasing order, disjoint). */
  at: z.number().int().nonnegative(),
  remove: z.number().int().nonnegative(),
  insert: z.array(IndexedDBRecordSchema),
});
export type IndexedDBSplice = z.infer<typeof IndexedDBSpliceSchema>;

export const IndexedDBStoreChangeSchema = z.object({
  database: z.string().min(1),
  store: z.string(),
  /** The store's record counts before and after the change. */
  before: z.number().int().nonnegative(),
  after: z.number().int().nonnegative(),
  splices: z.array(IndexedDBSpliceSchema).min(1),
});
export type IndexedDBStoreChange = z.infer<typeof IndexedDBStoreChangeSchema>;
