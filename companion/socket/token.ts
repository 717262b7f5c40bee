/**
 * The shared secret that proves a socket client is one of the companion's own: the native host of a
 * browser the companion launched gets it in its environment, anything else reads it from a 0600 file.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';

export function loadOrCreateToken(path: string): string {
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 32) {
      // A token file left readable by others (copied in, or an old umask) is made owner-only again.
      chmodSync(path, 0o600);
      return token;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = randomBytes(32).toString('hex');
  writeFileSync(path, token + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return token;
}

export function readToken(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
