/**
 * IndexedDB value encoding (shared/indexeddb-value.ts): every structured-clone type capture meets
 * survives encode → JSON → schema → decode; what the tagged form cannot hold is refused by name;
 * the decoder works from its source text alone (the restore sends it to the setup page that way);
 * and the restore's write calls stay under the message size and join back to the records.
 */
import { describe, expect, it } from 'vitest';
import { IndexedDBDatabaseSchema, IndexedDBRecordSchema, EncodedValueSchema, type IndexedDBDatabase } from '../../shared/indexeddb.js';
import { decodeIndexedDBValue, encodeIndexedDBValue, UnsupportedValue } from '../../shared/indexeddb-value.js';
import { indexedDBWriteCalls } from '../../companion/browser/restore/indexeddb-writes.js';

/** Encode, pass through JSON and the schema as capture → companion → restore does, decode. */
async function roundTrip(value: unknown): Promise<unknown> {
  const encoded = await encodeIndexedDBValue(value);
  const record = JSON.parse(JSON.stringify('trivial' in encoded ? { value: encoded.trivial } : { valueEncoded: encoded.encoded })) as unknown;
  const parsed = IndexedDBRecordSchema.parse(record);
  return 'value' in parsed ? parsed.value : decodeIndexedDBValue(parsed.valueEncoded);
}

describe('IndexedDB values', () => {
  it('plain JSON stays plain (Playwright reads it as `value`), __proto__ keys included', async () => {
    const value = JSON.parse('{"a":[1,"x",true,null,{"b":2.5}],"__proto__":"p","constructor":"c"}') as unknown;
    const encoded = await encodeIndexedDBValue(value);
    expect(encoded).toEqual({ trivial: value });
    const back = (await roundTrip(value)) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['a', '__proto__', 'constructor']);
    expect(back.a).toEqual([1, 'x', true, null, { b: 2.5 }]);
  });

  it.each([
    ['Date', new Date('2026-01-02T03:04:05.678Z')],
    ['undefined', undefined],
    ['NaN', NaN],
    ['-0', -0],
    ['Infinity', -Infinity],
    ['bigint', 12345678901234567890n],
    ['RegExp', /a+b/gi],
  ])('%s', async (_name, value) => {
    expect(await roundTrip(value)).toEqual(value);
    if (Object.is(value, -0)) expect(Object.is(await roundTrip(value), -0)).toBe(true);
  });

  it('ArrayBuffer and every typed array, views into a larger buffer included', async () => {
    const buffer = new Uint8Array([0, 1, 2, 250, 255]).buffer;
    expect(new Uint8Array((await roundTrip(buffer)) as ArrayBuffer)).toEqual(new Uint8Array(buffer));
    const arrays = [
      new Int8Array([-1, 2]),
      new Uint8Array([1, 255]),
      new Uint8ClampedArray([3, 4]),
      new Int16Array([-300, 300]),
      new Uint16Array([65535]),
      new Int32Array([-70000]),
      new Uint32Array([4000000000]),
      new Float32Array([1.5, -2.25]),
      new Float64Array([Math.PI]),
      new BigInt64Array([-5n]),
      new BigUint64Array([2n ** 63n]),
      new Uint8Array(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2),
    ];
    for (const array of arrays) {
      const back = await roundTrip(array);
      expect(back).toBeInstanceOf(array.constructor);
      expect(back).toEqual(array);
    }
  });

  it('Blob and File with their bytes, type, name and date', async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 251);
    const blob = (await roundTrip(new Blob([bytes], { type: 'image/png' }))) as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect(blob.type).toBe('image/png');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(bytes);
    const file = (await roundTrip(new File(['héllo'], 'note.txt', { type: 'text/plain', lastModified: 1700000000000 }))) as File;
    expect(file).toBeInstanceOf(File);
    expect([file.name, file.type, file.lastModified, await file.text()]).toEqual(['note.txt', 'text/plain', 1700000000000, 'héllo']);
  });

  it('Map, Set and nested objects, with shared references and cycles kept', async () => {
    const shared = { n: 1 };
    const value: Record<string, unknown> = {
      map: new Map<unknown, unknown>([['k', new Date(0)], [2, new Set(['a', shared])]]),
      set: new Set([1, 'two', shared]),
      list: [shared, { deep: { when: new Date(5), bytes: new Uint8Array([1]) } }],
    };
    value.self = value;
    const back = (await roundTrip(value)) as typeof value;
    expect(back.map).toEqual(value.map);
    expect(back.set).toEqual(value.set);
    expect(back.list).toEqual(value.list);
    expect(back.self).toBe(back);
    const list = back.list as unknown[];
    expect([...(back.set as Set<unknown>)][2]).toBe(list[0]);
  });

  it('keys: numbers, strings, dates, binary and arrays', async () => {
    for (const key of [1, 'k', new Date(7), new Uint8Array([1, 2]).buffer, [1, 'a', new Date(9)]]) {
      expect(await roundTrip(key)).toEqual(key);
    }
  });

  it('what the tagged form cannot hold is refused by its type name, never dropped silently', async () => {
    await expect(encodeIndexedDBValue(new DataView(new ArrayBuffer(2)))).rejects.toThrow(UnsupportedValue);
    await expect(encodeIndexedDBValue({ nested: [new DataView(new ArrayBuffer(2))] })).rejects.toMatchObject({ type: 'DataView' });
    await expect(encodeIndexedDBValue(new String('boxed'))).rejects.toMatchObject({ type: 'String' });
  });

  it('the schema refuses a malformed tagged value', () => {
    expect(EncodedValueSchema.safeParse({ d: 5 }).success).toBe(false);
    expect(EncodedValueSchema.safeParse({ ta: { b: 'AA==', k: 'f16' } }).success).toBe(false);
    expect(IndexedDBRecordSchema.safeParse({ key: 1 }).success).toBe(false);
    expect(IndexedDBRecordSchema.safeParse({ value: { when: new Date() } }).success).toBe(false);
  });

  it('the decoder runs from its source text alone', async () => {
    const decode = new Function(`return (${decodeIndexedDBValue.toString()})`)() as typeof decodeIndexedDBValue;
    const encoded = await encodeIndexedDBValue(new Map([['d', new Date(1)]]));
    expect('encoded' in encoded && decode(encoded.encoded)).toEqual(new Map([['d', new Date(1)]]));
  });
});

describe('IndexedDB restore calls', () => {
  it('stay under the message size, split long records and join back to every record', () => {
    const long = 'x'.repeat(2500) + '😀'.repeat(500);
    const db: IndexedDBDatabase = IndexedDBDatabaseSchema.parse({
      name: 'app',
      version: 3,
      stores: [
        { name: 'small', autoIncrement: true, keyPath: 'id', indexes: [{ name: 'by', keyPath: 'by', unique: false, multiEntry: false }], records: Array.from({ length: 50 }, (_, i) => ({ value: { id: i + 1, by: `v${i}` } })) },
        { name: 'big', autoIncrement: false, indexes: [], records: [{ key: 'a', value: long }, { key: 'b', value: 'short' }] },
      ],
    });
    const small: IndexedDBDatabase = { name: 'tiny', version: 1, stores: [{ name: 'kv', autoIncrement: false, indexes: [], records: [{ key: 'k', value: 1 }] }] };
    const packed = indexedDBWriteCalls([small, db], 1000);
    // Each call is one DevTools round trip: a small database shares its call with the next steps.
    expect(packed[0].steps.map((s) => s.op)).toEqual(['create', 'put', 'close', 'create']);
    // Characters as storage-writes.ts counts them (of the text carried, before JSON escapes it again).
    for (const call of packed) expect(call.steps.reduce((n, s) => n + (s.op === 'put' ? s.piece.length : JSON.stringify(s).length), 0)).toBeLessThanOrEqual(1000);
    const calls = packed.flatMap((c) => c.steps).filter((s) => s.name === 'app');
    expect(calls[0]).toMatchObject({ op: 'create', name: 'app', version: 3 });
    expect(calls.at(-1)).toEqual({ op: 'close', name: 'app' });
    const byStore = new Map<string, unknown[]>();
    let text = '';
    for (const call of calls) {
      if (call.op !== 'put') continue;
      expect(call.piece.length).toBeLessThanOrEqual(1000);
      // Never half a surrogate pair at the end of a piece: CDP carries UTF-8.
      expect(/[\uD800-\uDBFF]$/.test(call.piece)).toBe(false);
      text += call.piece;
      if (!call.end) continue;
      byStore.set(call.store, [...(byStore.get(call.store) ?? []), ...(JSON.parse(text) as unknown[])]);
      text = '';
    }
    expect(byStore.get('small')).toEqual(db.stores[0].records);
    expect(byStore.get('big')).toEqual(db.stores[1].records);
  });
});
