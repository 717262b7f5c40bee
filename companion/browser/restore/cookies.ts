/**
 * Cookies go in first, before any page exists, so the very first request of every tab carries them.
 * Playwright's addCookies writes straight into the context's jar; no page or network is involved.
 */
import type { BrowserContext, Cookie as PlaywrightCookie } from 'playwright-core';
import type { Cookie } from '../../../shared/state.js';
import { firstLine } from './strings.js';
import type { RestoreOutcome } from './types.js';

function toPlaywrightCookie(c: Cookie): PlaywrightCookie {
  const cookie: PlaywrightCookie = {
    name: c.name,
    value: c.value,
    domain: c.domain,
    path: c.path,
    expires: c.expires,
    httpOnly: c.httpOnly,
    secure: c.secure,
    sameSite: c.sameSite,
  };
  if (c.partitionKey !== undefined) cookie.partitionKey = c.partitionKey;
  return cookie;
}

const cookieKey = (c: { name: string; domain: string; path: string }) =>
  `${c.name}\u0000${c.domain.replace(/^\./, '').toLowerCase()}\u0000${c.path}`;

/**
 * Add all cookies; on a batch failure (Playwright rejects the whole batch for one invalid cookie) add
 * them one by one. Chromium also drops some cookies *silently* (measured: SameSite=None without
 * Secure), so read the jar back and report every cookie that is not in it.
 */
export async function restoreCookies(context: BrowserContext, cookies: Cookie[], outcome: RestoreOutcome): Promise<number> {
  const now = Date.now() / 1000;
  const live = cookies.filter((c) => c.expires === -1 || c.expires > now);
  if (live.length < cookies.length) {
    outcome.warnings.push(`${cookies.length - live.length} cookie(s) expired since capture and were not restored`);
  }
  if (!live.length) return 0;
  const rejected = new Set<Cookie>();
  try {
    await context.addCookies(live.map(toPlaywrightCookie));
  } catch {
    for (const c of live) {
      try {
        await context.addCookies([toPlaywrightCookie(c)]);
      } catch (e) {
        rejected.add(c);
        outcome.failures.push({ what: `cookie ${c.name} (${c.domain}${c.path})`, error: firstLine(e) });
      }
    }
  }
  const stored = new Set((await context.cookies()).map(cookieKey));
  let added = 0;
  for (const c of live) {
    if (rejected.has(c)) continue;
    if (stored.has(cookieKey(c))) {
      added++;
    } else {
      const hint = c.sameSite === 'None' && !c.secure ? ' (SameSite=None requires Secure)' : '';
      outcome.failures.push({ what: `cookie ${c.name} (${c.domain}${c.path})`, error: `Chromium did not store it${hint}` });
    }
  }
  return added;
}
