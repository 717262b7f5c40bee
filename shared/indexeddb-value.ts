/**
 * IndexedDB keys and values ↔ the JSON-safe tagged form of shared/indexeddb.ts.
 *
 * `encodeIndexedDBValue` runs in the content script (isolated world), on what IndexedDB hands back:
 * structured clones, so class instances are already plain objects and only the types below occur.
 * What structured clone can store but this form cannot hold (CryptoKey, DataView, FileSystemHandle,
 * ImageBitmap, wrapper objects like `new String()`, …) makes the encoder throw `UnsupportedValue`
 * with the type's name, so the caller reports the record instead of dropping it silently.
 *
 * `decodeIndexedDBValue` runs in the restore's setup page: it is passed there as source text, so it
 * references nothing outside its own body (no imports, no module constants).
 */
import type { EncodedValue, TypedArrayKind } from './indexeddb.js';

/** A value the tagged form cannot hold; `type` names it ("CryptoKey"). */
export class UnsupportedValue extends Error {
  constructor(readonly type: string) {
    super(`cannot save a ${type}`);
  }
}

/** Plain JSON (stored as is, Playwright's `value`/`key`) or the tagged form (`valueEncoded`/`keyEncoded`). */
export type Encoded = { trivial: unknown } | { encoded: EncodedValue };

const TYPED_ARRAYS: Array<[TypedArrayKind, string]> = [
  ['i8', 'Int8Array'],
  ['ui8', 'Uint8Array'],
  ['ui8c', 'Uint8ClampedArray'],
  ['i16', 'Int16Array'],
  ['ui16', 'Uint16Array'],
  ['i32', 'Int32Array'],
  ['ui32', 'Uint32Array'],
  ['f32', 'Float32Array'],
  ['f64', 'Float64Array'],
  ['bi64', 'BigInt64Array'],
  ['bui64', 'BigUint64Array'],
];
const TYPED_ARRAY_KIND = new Map(TYPED_ARRAYS.map(([kind, tag]) => [`[object ${tag}]`, kind]));

function tagOf(value: object): string {
  return Object.prototype.toString.call(value);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && tagOf(value) === '[object Object]';
}

/**
 * True when JSON carries the value exactly: plain objects and dense arrays (each met once: a shared
 * or cyclic reference needs the tagged form), strings, finite numbers other than -0, booleans, null.
 */
function isTrivial(value: unknown, seen: Set<object>): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== 'object') return false;
  if (seen.has(value)) return false;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !isTrivial(value[i], seen)) return false;
    return true;
  }
  if (!isPlainObject(value)) return false;
  for (const key of Object.keys(value)) if (!isTrivial((value as Record<string, unknown>)[key], seen)) return false;
  return true;
}

/** Base64 of bytes without Buffer (the content script has none), in chunks that stay under the argument limit. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let at = 0; at < bytes.length; at += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return btoa(binary);
}

/** Encode one key or value. Blobs are read, so this is async. Throws UnsupportedValue. */
export async function encodeIndexedDBValue(value: unknown): Promise<Encoded> {
  if (isTrivial(value, new Set())) return { trivial: value };
  const blobs: Array<{ node: { blob: { b: string } }; blob: Blob }> = [];
  const encoded = encodeTagged(value, { ids: new Map(), lastId: 0, blobs });
  // Each blob's bytes are read once everything else is encoded; its node gets them in place.
  await Promise.all(
    blobs.map(async ({ node, blob }) => {
      node.blob.b = bytesToBase64(new Uint8Array(await blob.arrayBuffer()));
    }),
  );
  return { encoded };
}

interface EncodeContext {
  ids: Map<object, number>;
  lastId: number;
  blobs: Array<{ node: { blob: { b: string } }; blob: Blob }>;
}

function encodeTagged(value: unknown, ctx: EncodeContext): EncodedValue {
  switch (typeof value) {
    case 'undefined':
      return { v: 'undefined' };
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isNaN(value)) return { v: 'NaN' };
      if (value === Infinity) return { v: 'Infinity' };
      if (value === -Infinity) return { v: '-Infinity' };
      if (Object.is(value, -0)) return { v: '-0' };
      return value;
    case 'bigint':
      return { bi: value.toString() };
    case 'object':
      break;
    default:
      throw new UnsupportedValue(typeof value);
  }
  if (value === null) return { v: 'null' };
  const seen = ctx.ids.get(value);
  if (seen !== undefined) return { ref: seen };
  const tag = tagOf(value);
  const kind = TYPED_ARRAY_KIND.get(tag);
  if (kind) {
    const view = value as ArrayBufferView;
    return { ta: { b: bytesToBase64(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)), k: kind } };
  }
  switch (tag) {
    case '[object Date]': {
      const time = (value as Date).getTime();
      // An invalid Date has no ISO form; Playwright reads `new Date('Invalid Date')` back as invalid too.
      return { d: Number.isNaN(time) ? 'Invalid Date' : (value as Date).toISOString() };
    }
    case '[object RegExp]':
      return { r: { p: (value as RegExp).source, f: (value as RegExp).flags } };
    case '[object Error]': {
      const error = value as Error;
      return { e: { n: error.name, m: error.message, ...(error.stack ? { s: error.stack } : {}) } };
    }
    case '[object ArrayBuffer]':
      return { ab: { b: bytesToBase64(new Uint8Array(value as ArrayBuffer)) } };
    case '[object Blob]':
    case '[object File]': {
      const blob = value as Blob;
      const file = tag === '[object File]' ? (value as File) : undefined;
      const node = { blob: { b: '', type: blob.type, ...(file ? { name: file.name, lastModified: file.lastModified } : {}) } };
      ctx.blobs.push({ node, blob });
      return node;
    }
  }
  const id = ++ctx.lastId;
  ctx.ids.set(value, id);
  if (tag === '[object Map]') {
    const m: { k: EncodedValue; v: EncodedValue }[] = [];
    for (const [k, v] of value as Map<unknown, unknown>) m.push({ k: encodeTagged(k, ctx), v: encodeTagged(v, ctx) });
    return { m, id };
  }
  if (tag === '[object Set]') {
    const s: EncodedValue[] = [];
    for (const item of value as Set<unknown>) s.push(encodeTagged(item, ctx));
    return { s, id };
  }
  if (Array.isArray(value)) {
    const a: EncodedValue[] = [];
    for (let i = 0; i < value.length; i++) a.push(encodeTagged(value[i], ctx));
    return { a, id };
  }
  if (!isPlainObject(value)) throw new UnsupportedValue(tag.slice(8, -1));
  const o: { k: string; v: EncodedValue }[] = [];
  for (const k of Object.keys(value)) o.push({ k, v: encodeTagged((value as Record<string, unknown>)[k], ctx) });
  return { o, id };
}

/**
 * The tagged form back to a value (Playwright's parseEvaluationResultValue, plus `blob`). Self-contained:
 * the restore sends its source text to the setup page.
 */
export function decodeIndexedDBValue(encoded: unknown): unknown {
  const refs = new Map<number, unknown>();
  const kinds: Record<string, new (buffer: ArrayBuffer) => unknown> = {
    i8: Int8Array,
    ui8: Uint8Array,
    ui8c: Uint8ClampedArray,
    i16: Int16Array,
    ui16: Uint16Array,
    i32: Int32Array,
    ui32: Uint32Array,
    f32: Float32Array,
    f64: Float64Array,
    bi64: BigInt64Array,
    bui64: BigUint64Array,
  };
  const bytes = (b64: string): Uint8Array<ArrayBuffer> => {
    const binary = atob(b64);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  };
  const constants: Record<string, unknown> = { undefined: undefined, null: null, NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
  // `any` is the honest type of a tag reader: the shape was validated by zod before it got here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const decode = (value: any): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if ('ref' in value) return refs.get(value.ref);
    if ('v' in value) return constants[value.v];
    if ('d' in value) return new Date(value.d);
    if ('u' in value) return new URL(value.u);
    if ('bi' in value) return BigInt(value.bi);
    if ('r' in value) return new RegExp(value.r.p, value.r.f);
    if ('e' in value) {
      const error = new Error(value.e.m);
      error.name = value.e.n;
      if (value.e.s !== undefined) error.stack = value.e.s;
      return error;
    }
    if ('ta' in value) return new kinds[value.ta.k](bytes(value.ta.b).buffer);
    if ('ab' in value) return bytes(value.ab.b).buffer;
    if ('blob' in value) {
      const { b, type, name, lastModified } = value.blob;
      return name === undefined ? new Blob([bytes(b)], { type }) : new File([bytes(b)], name, { type, lastModified });
    }
    if ('a' in value) {
      const out: unknown[] = [];
      refs.set(value.id, out);
      for (const item of value.a) out.push(decode(item));
      return out;
    }
    if ('o' in value) {
      const out: Record<string, unknown> = {};
      refs.set(value.id, out);
      // defineProperty: a key named __proto__ stays a key.
      for (const { k, v } of value.o) Object.defineProperty(out, k, { value: decode(v), enumerable: true, writable: true, configurable: true });
      return out;
    }
    if ('m' in value) {
      const out = new Map<unknown, unknown>();
      refs.set(value.id, out);
      for (const { k, v } of value.m) out.set(decode(k), decode(v));
      return out;
    }
    if ('s' in value) {
      const out = new Set<unknown>();
      refs.set(value.id, out);
      for (const item of value.s) out.add(decode(item));
      return out;
    }
    return value;
  };
  return decode(encoded);
}
