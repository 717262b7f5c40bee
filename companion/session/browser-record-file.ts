import { join } from 'node:path';

/** Where a session's browser record lives (browser-records.ts); apart so a caller can look without loading zod. */
export function recordFile(dir: string, sessionId: string): string {
  // Session ids are UUIDs or hex; anything else is kept out of the path.
  return join(dir, `${sessionId.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}
