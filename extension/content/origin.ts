/** Which documents are worth capturing: real web origins only. */

/**
 * True for http(s) documents with a real (non-opaque) origin. Excludes chrome://, chrome-extension://,
 * data:, about:blank/srcdoc (their storage belongs to the creating frame, captured there) and
 * sandboxed frames (origin "null", where touching storage throws).
 */
export function isCapturableDocument(loc: Location = location): boolean {
  if (loc.protocol !== 'http:' && loc.protocol !== 'https:') return false;
  return self.origin !== 'null' && loc.origin !== 'null';
}
