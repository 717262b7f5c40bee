/** Which documents are worth capturing: real web origins only. */
import { RESTORE_SETUP_PATH } from '../../shared/constants.js';

/**
 * True for http(s) documents with a real (non-opaque) origin. Excludes chrome://, chrome-extension://,
 * data:, about:blank/srcdoc (their storage belongs to the creating frame, captured there) and
 * sandboxed frames (origin "null", where touching storage throws), and restory's own restore setup
 * page (shared/constants.ts).
 */
export function isCapturableDocument(loc: Location = location): boolean {
  if (loc.protocol !== 'http:' && loc.protocol !== 'https:') return false;
  if (loc.pathname === RESTORE_SETUP_PATH) return false;
  return self.origin !== 'null' && loc.origin !== 'null';
}
