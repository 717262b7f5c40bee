/**
 * Fuzz of the frame codec (shared/frame-codec.ts), seeded so a failure reproduces:
 * RESTORY_FUZZ_SEED=<printed seed> npx vitest run test/unit/fuzz-frame-codec.test.ts
 *
 * Each case is a random stream of valid frames, random bodies, invalid UTF-8, oversize lengths and a
 * truncated tail, cut into random chunks. The decoder must never throw, must yield exactly one result
 * per complete frame (the message, or an error for a body that is not UTF-8 JSON), must fail for good
 * at an oversize length and report a truncated tail at end(), and never hold more than one frame.
 */
import { endianness } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, type DecodedFrame } from '../../shared/frame-codec.js';
import { RestoryError } from '../../shared/errors.js';
import { prng, runSeed } from '../helpers/fault-harness.js';

const CASES = 10_000;
const MAX = 4096;
const SEED = runSeed();

type Expected = { ok: true; message: unknown } | { ok: false; error: RegExp };

function header(length: number): Buffer {
  const h = Buffer.alloc(4);
  if (endianness() === 'LE') h.writeUInt32LE(length >>> 0);
  else h.writeUInt32BE(length >>> 0);
  return h;
}

function fuzzer(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const CHARS = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\u0000', 'é', '日', '😀', '\ud800', '\udfff', '\u2028', '\ufeff', '{', ']'];
  const str = () => Array.from({ length: int(12) }, () => pick(CHARS)).join('');
  const value = (depth = 0): unknown => {
    switch (int(depth > 2 ? 5 : 7)) {
      case 0: return int(1e9) - 5e8;
      case 1: return random() * 1e6;
      case 2: return str();
      case 3: return pick([true, false, null]);
      case 4: return str().length % 2 ? '' : 0;
      case 5: return Array.from({ length: int(4) }, () => value(depth + 1));
      default: return Object.fromEntries(Array.from({ length: int(4) }, () => [str(), value(depth + 1)]));
    }
  };
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { int, pick, value, bytes };
}

/** What the decoder must make of one complete body (independent of how the stream is chunked). */
function expectBody(body: Buffer): Expected {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return { ok: false, error: /is not valid UTF-8/ };
  }
  try {
    return { ok: true, message: JSON.parse(text) };
  } catch {
    return { ok: false, error: /is not JSON/ };
  }
}

describe(`fuzz: frame decoder (seed ${SEED})`, () => {
  it(`${CASES} random, oversize, truncated and chunked streams decode exactly`, () => {
    console.log(`fuzz-frame-codec: seed ${SEED} (reproduce with RESTORY_FUZZ_SEED=${SEED}), ${CASES} cases`);
    const random = prng(SEED);
    const f = fuzzer(random);
    let frames = 0;
    for (let c = 0; c < CASES; c++) {
      const parts: Buffer[] = [];
      const expected: Expected[] = [];
      let fatalAt = false;
      let truncated = false;
      const n = 1 + f.int(6);
      for (let i = 0; i < n && !fatalAt && !truncated; i++) {
        const kind = f.int(10);
        if (kind <= 3) {
          const message = f.value();
          parts.push(encodeFrame(message, MAX));
          expected.push({ ok: true, message: JSON.parse(JSON.stringify(message)) });
        } else if (kind <= 5) {
          const body = f.bytes(f.int(40));
          parts.push(header(body.length), body);
          expected.push(expectBody(body));
        } else if (kind === 6) {
          const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
          parts.push(header(body.length), body);
          expected.push({ ok: false, error: /not valid UTF-8/ });
        } else if (kind === 7) {
          const length = MAX + 1 + f.int(0xffffffff - MAX);
          parts.push(header(length), f.bytes(f.int(64)));
          expected.push({ ok: false, error: new RegExp(`announces ${length} bytes, over the limit of ${MAX}`) });
          fatalAt = true;
        } else if (kind === 8) {
          // A tail cut short: a header promising more than follows, or part of a header.
          const body = Buffer.from(JSON.stringify(f.value()));
          const frame = Buffer.concat([header(body.length), body]);
          parts.push(frame.subarray(0, f.int(frame.length)));
          truncated = true;
        } else {
          parts.push(encodeFrame({ type: 'events', batch: [f.value(), f.value()] }, MAX));
          expected.push({ ok: true, message: JSON.parse(parts.at(-1)!.subarray(4).toString()) });
        }
      }
      const stream = Buffer.concat(parts);
      const decoder = new FrameDecoder(MAX);
      const got: DecodedFrame[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = f.pick([1, 2, 3, 4, 7, 64, 1000, stream.length]);
        got.push(...decoder.push(stream.subarray(at, at + size)));
        at += size;
        if (decoder.pending > MAX + 4) throw new Error(`seed ${SEED} case ${c}: ${decoder.pending} bytes held`);
      }
      const ending = decoder.end();
      const where = `seed ${SEED} case ${c}`;
      const fail = (what: string) => {
        throw new Error(`${where}: ${what}\nexpected ${JSON.stringify(expected)}\ngot ${JSON.stringify(got)}`);
      };
      if (got.length !== expected.length) fail('wrong number of frames');
      got.forEach((g, i) => {
        const e = expected[i];
        if (g.ok !== e.ok) fail(`frame ${i}: ok is ${g.ok}`);
        if (g.ok && e.ok && !isDeepStrictEqual(g.message, e.message)) fail(`frame ${i}: wrong message`);
        if (!g.ok && !e.ok && !(g.error instanceof RestoryError && g.error.code === 'bad_frame' && e.error.test(g.error.message))) {
          fail(`frame ${i}: wrong error ${g.error.message}`);
        }
      });
      if ((decoder.failed !== null) !== fatalAt) fail(`failed is ${String(decoder.failed)}`);
      const partial = !fatalAt && truncated && parts.at(-1)!.length > 0;
      if (partial ? !/stream ended inside a frame/.test(ending?.message ?? '') : ending !== null) fail(`end() gave ${String(ending)}`);
      frames += expected.length;
    }
    expect(frames).toBeGreaterThan(CASES);
  });

  it('encodeFrame: any value either round-trips or is refused with bad_frame', () => {
    const random = prng(SEED ^ 0x5bd1e995);
    const f = fuzzer(random);
    for (let c = 0; c < 2000; c++) {
      const value = f.int(20) === 0 ? { big: 'x'.repeat(MAX) } : f.value();
      let frame: Buffer;
      try {
        frame = encodeFrame(value, MAX);
      } catch (e) {
        expect((e as RestoryError).code).toBe('bad_frame');
        continue;
      }
      const out = new FrameDecoder(MAX).push(frame);
      expect(out).toEqual([{ ok: true, message: JSON.parse(JSON.stringify(value)) }]);
    }
  });
});
