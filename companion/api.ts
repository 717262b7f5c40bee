/**
 * The library API: `import { openCompanion } from '@restory/cli'`.
 *
 *   const companion = await openCompanion({ dataDir });
 *   const { sessionId, context } = await companion.start({ urls: ['https://example.com'] });
 *   // … later, in a new process after a crash:
 *   const { session, report } = await companion.resume(sessionId);
 *   companion.list(); await companion.close(sessionId); await companion.shutdown();
 */
import { Companion, type CompanionOptions } from './companion.js';

export { Companion };
export type { CompanionOptions, RunningSession, SessionEnd } from './companion.js';
export type { Config } from './config.js';
export type { ResumeReport } from '../shared/protocol.js';
export { RestoryError } from '../shared/errors.js';
export type { SessionState, SessionSummary, SessionStatus } from '../shared/state.js';

/** Open (and lock) the companion of a data dir: store, socket and orphan recovery. */
export function openCompanion(opts: CompanionOptions = {}): Promise<Companion> {
  return Companion.open(opts);
}
