/**
 * Errors: one shape everywhere, so a failure crosses every boundary (extension ⇄ native host ⇄
 * companion socket ⇄ CLI) with its code and message, and is rethrown on the other side as a
 * RestoryError with the same code. Their zod schemas are in error-schemas.ts: this file loads no
 * zod, so the CLI's fast paths (`--help`, `list` from the session index) can throw RestoryErrors
 * without paying ~0.1 s to import it.
 */

export const ERROR_CODES = [
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
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What travels in a frame: `toInfo()` on one side, `new RestoryError(code, message)` on the other. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

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
