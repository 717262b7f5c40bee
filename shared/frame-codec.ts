/**
 * Chrome native messaging framing, also used on the companion socket so that both hops are framed
 * the same way: a 4-byte length in native byte order, then that many bytes of UTF-8 JSON.
 * Node only (Buffer); the extension never sees frames, Chromium does the framing for it.
 */
import { endianness } from 'node:os';
import { RestoryError } from './errors.js';

const LITTLE_ENDIAN = endianness() === 'LE';
const HEADER = 4;

export function encodeFrame(message: unknown, maxBytes: number): Buffer {
  const json = JSON.stringify(message);
  if (json === undefined) throw new RestoryError('bad_frame', 'cannot encode undefined as a frame');
  const body = Buffer.from(json, 'utf8');
  if (body.length > maxBytes) {
    throw new RestoryError('bad_frame', `frame of ${body.length} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  const frame = Buffer.allocUnsafe(HEADER + body.length);
  if (LITTLE_ENDIAN) frame.writeUInt32LE(body.length, 0);
  else frame.writeUInt32BE(body.length, 0);
  body.copy(frame, HEADER);
  return frame;
}

export type DecodedFrame = { ok: true; message: unknown } | { ok: false; error: RestoryError };

/**
 * Incremental decoder: feed it chunks as they arrive (a frame may be split across chunks, a chunk
 * may hold several frames). A frame whose body is not JSON yields an error and decoding goes on
 * with the next frame; an oversize length cannot be skipped safely, so it makes the decoder fail
 * for good (`failed`), and the caller should close the stream.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  failed: RestoryError | null = null;

  /** `maxBytes` may be changed between frames (e.g. raised once a connection is authenticated). */
  constructor(public maxBytes: number) {}

  push(chunk: Buffer): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    this.pushEach(chunk, (frame) => out.push(frame));
    return out;
  }

  /**
   * Like push, but hands each frame to `onFrame` as soon as it is decoded, so the callback can
   * change `maxBytes` before the next frame's length is checked.
   */
  pushEach(chunk: Buffer, onFrame: (frame: DecodedFrame) => void): void {
    if (this.failed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= HEADER && !this.failed) {
      const head = this.peek(HEADER);
      const length = LITTLE_ENDIAN ? head.readUInt32LE(0) : head.readUInt32BE(0);
      if (length > this.maxBytes) {
        this.failed = new RestoryError(
          'bad_frame',
          `frame announces ${length} bytes, over the limit of ${this.maxBytes} bytes`,
        );
        this.chunks = [];
        this.buffered = 0;
        onFrame({ ok: false, error: this.failed });
        break;
      }
      if (this.buffered < HEADER + length) break;
      const body = this.take(HEADER + length).subarray(HEADER);
      onFrame(decodeBody(body));
    }
  }

  /** Bytes of an incomplete frame still held: non-zero at end of stream means it was truncated. */
  get pending(): number {
    return this.buffered;
  }

  /** Call at end of stream: an error if the stream stopped inside a frame. */
  end(): RestoryError | null {
    if (this.buffered === 0 || this.failed) return null;
    const error = new RestoryError('bad_frame', `stream ended inside a frame (${this.buffered} bytes of an incomplete frame)`);
    this.chunks = [];
    this.buffered = 0;
    return error;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let result: Buffer;
    if (first.length >= n) {
      result = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const joined = Buffer.concat(this.chunks);
      result = joined.subarray(0, n);
      this.chunks = joined.length > n ? [joined.subarray(n)] : [];
    }
    this.buffered -= n;
    return result;
  }
}

function decodeBody(body: Buffer): DecodedFrame {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return { ok: false, error: new RestoryError('bad_frame', `frame of ${body.length} bytes is not valid UTF-8`) };
  }
  try {
    return { ok: true, message: JSON.parse(text) };
  } catch (e) {
    return {
      ok: false,
      error: new RestoryError('bad_frame', `frame of ${body.length} bytes is not JSON: ${(e as Error).message}`),
    };
  }
}
