/**
 * Errors: one shape everywhere, so a failure crosses every boundary (extension ⇄ native host ⇄
 * companion socket ⇄ CLI) with its code and message, and is rethrown on the other side as a
 * RestoryError with the same code.
 */
import { z } from 'zod';

export const ErrorCodeSchema = z.enum([
  'bad_frame',
  'bad_message',
  'version_mismatch',
  'unauthorized',
  'unknown_session',
  'invalid_state',
  'companion_unreachable',
  /** The companion is shutting down and did nothing with the request: ask whichever companion comes next. */
  'companion_stopping',
  'launch_failed',
  'storage_failed',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/** What travels in a frame: `toInfo()` on one side, `new RestoryError(code, message)` on the other. */
export const ErrorInfoSchema = z.object({ code: ErrorCodeSchema, message: z.string() });
export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

/** An error that carries a protocol code; thrown by handlers and serialised into replies. */
export class RestoryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RestoryError';
  }
  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}
