/**
 * A net.Socket speaking length-prefixed JSON frames (shared/frame-codec.ts) in both directions.
 * Used by the companion's server, the native host and the CLI client, so every hop is framed
 * the same way and a partial read is never mistaken for a message.
 */
import type { Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { FrameDecoder, encodeFrame } from '../../shared/frame-codec.js';
import type { RestoryError } from '../../shared/errors.js';

export interface FramedSocketEvents {
  message: [unknown];
  /** A frame that could not be decoded; `fatal` when the stream cannot continue (oversize length). */
  frameError: [RestoryError, boolean];
  close: [];
}

export class FramedSocket extends EventEmitter<FramedSocketEvents> {
  private readonly decoder: FrameDecoder;
  private closed = false;

  constructor(
    readonly socket: Socket,
    maxIn: number,
    private readonly maxOut: number,
  ) {
    super();
    this.decoder = new FrameDecoder(maxIn);
    // Frame by frame, so a listener (the auth handler) can raise the limit before the next frame.
    socket.on('data', (chunk: Buffer) => {
      this.decoder.pushEach(chunk, (frame) => {
        if (frame.ok) this.emit('message', frame.message);
        else this.emit('frameError', frame.error, this.decoder.failed !== null);
      });
    });
    socket.on('end', () => {
      const truncated = this.decoder.end();
      if (truncated) this.emit('frameError', truncated, true);
    });
    socket.on('error', () => {
      // 'close' follows; callers only care that the connection is gone.
    });
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  /** Change the incoming frame limit; applies from the next frame on. */
  setMaxIn(bytes: number): void {
    this.decoder.maxBytes = bytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Throws RestoryError('bad_frame') if the message is over the outgoing limit; nothing is sent then. */
  send(message: unknown): void {
    if (this.closed) return;
    this.socket.write(encodeFrame(message, this.maxOut));
  }

  close(): void {
    if (!this.closed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
