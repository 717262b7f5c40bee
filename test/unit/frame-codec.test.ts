import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, type DecodedFrame } from '../../shared/frame-codec.js';

const MAX = 1024 * 1024;
const messages = (frames: DecodedFrame[]) => frames.map((f) => (f.ok ? f.message : { error: f.error.message }));

function rawFrame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  if (endianness() === 'LE') head.writeUInt32LE(body.length);
  else head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

describe('frame codec', () => {
  const three = [{ a: 1 }, { type: 'events', batch: [1, 2, 3] }, 'third'];
  const buffer = Buffer.concat(three.map((m) => encodeFrame(m, MAX)));

  it('decodes a 3-frame buffer split at every possible point', () => {
    for (let i = 0; i <= buffer.length; i++) {
      const d = new FrameDecoder(MAX);
      const out = [...d.push(buffer.subarray(0, i)), ...d.push(buffer.subarray(i))];
      expect(messages(out), `split at ${i}`).toEqual(three);
      expect(d.end()).toBeNull();
    }
  });

  it('decodes a 3-frame buffer split at every pair of points (three chunks)', () => {
    for (let i = 0; i <= buffer.length; i += 3) {
      for (let j = i; j <= buffer.length; j += 5) {
        const d = new FrameDecoder(MAX);
        const out = [...d.push(buffer.subarray(0, i)), ...d.push(buffer.subarray(i, j)), ...d.push(buffer.subarray(j))];
        expect(messages(out)).toEqual(three);
      }
    }
  });

  it('decodes byte by byte and many frames in one chunk', () => {
    const d = new FrameDecoder(MAX);
    const out: DecodedFrame[] = [];
    for (const b of buffer) out.push(...d.push(Buffer.from([b])));
    expect(messages(out)).toEqual(three);
    const many = Array.from({ length: 500 }, (_, i) => ({ i }));
    expect(messages(new FrameDecoder(MAX).push(Buffer.concat(many.map((m) => encodeFrame(m, MAX)))))).toEqual(many);
  });

  it('round-trips unicode and emoji, with the length in bytes', () => {
    const message = { text: 'héllo wörld — 日本語 😀👍🏽', key: 'ключ' };
    const frame = encodeFrame(message, MAX);
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    expect(frame.length).toBe(4 + body.length);
    // Split inside a multi-byte character.
    const cut = frame.indexOf(Buffer.from('😀')) + 2;
    const d = new FrameDecoder(MAX);
    expect(messages([...d.push(frame.subarray(0, cut)), ...d.push(frame.subarray(cut))])).toEqual([message]);
  });

  it('refuses to encode an oversize message or undefined', () => {
    expect(() => encodeFrame({ s: 'x'.repeat(100) }, 50)).toThrow(/exceeds the limit of 50 bytes/);
    expect(() => encodeFrame(undefined, MAX)).toThrow(/undefined/);
  });

  it('an oversize announced length fails the decoder for good', () => {
    const d = new FrameDecoder(16);
    const head = Buffer.alloc(4);
    if (endianness() === 'LE') head.writeUInt32LE(17);
    else head.writeUInt32BE(17);
    const out = d.push(head);
    expect(out).toHaveLength(1);
    expect(out[0].ok).toBe(false);
    expect(d.failed?.code).toBe('bad_frame');
    expect(d.failed?.message).toMatch(/17 bytes, over the limit of 16/);
    expect(d.push(encodeFrame({ a: 1 }, 16))).toEqual([]);
  });

  it('end() detects a stream truncated inside a frame', () => {
    const d = new FrameDecoder(MAX);
    expect(messages(d.push(buffer.subarray(0, buffer.length - 3)))).toEqual(three.slice(0, 2));
    expect(d.pending).toBeGreaterThan(0);
    expect(d.end()?.message).toMatch(/stream ended inside a frame/);
    const clean = new FrameDecoder(MAX);
    clean.push(buffer);
    expect(clean.end()).toBeNull();
    const headerOnly = new FrameDecoder(MAX);
    headerOnly.push(buffer.subarray(0, 2));
    expect(headerOnly.end()?.code).toBe('bad_frame');
  });

  it('a frame that is not JSON (or not UTF-8) yields an error and decoding continues', () => {
    const d = new FrameDecoder(MAX);
    const out = d.push(Buffer.concat([encodeFrame(1, MAX), rawFrame(Buffer.from('{not json')), rawFrame(Buffer.from([0xff, 0xfe])), encodeFrame(2, MAX)]));
    expect(out.map((f) => f.ok)).toEqual([true, false, false, true]);
    expect(messages(out)).toEqual([1, { error: expect.stringMatching(/not JSON/) }, { error: expect.stringMatching(/not valid UTF-8/) }, 2]);
    expect(d.failed).toBeNull();
  });
});
