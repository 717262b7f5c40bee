/** Cookies: everything at start (and on resync) as `cookies.all`, then each change as `cookie.change`. */
import type { Cookie } from '../../shared/state.js';
import type { CaptureSource, Emit } from './capture-source.js';
import { createDebug, warn } from './debug.js';

const debug = createDebug('cookies');

const SAME_SITE: Record<chrome.cookies.SameSiteStatus, Cookie['sameSite']> = {
  no_restriction: 'None',
  lax: 'Lax',
  strict: 'Strict',
  // Chromium treats a cookie without SameSite as Lax by default.
  unspecified: 'Lax',
};

export function toCookie(c: chrome.cookies.Cookie): Cookie {
  const cookie: Cookie = {
    name: c.name,
    value: c.value,
    // As Chrome reports it: ".example.com" for domain cookies, "example.com" host-only, like Playwright.
    domain: c.domain,
    path: c.path,
    expires: c.expirationDate ?? -1,
    httpOnly: c.httpOnly,
    secure: c.secure,
    sameSite: SAME_SITE[c.sameSite] ?? 'Lax',
  };
  const site = c.partitionKey?.topLevelSite;
  if (site) cookie.partitionKey = site;
  return cookie;
}

/** Unpartitioned and (where this Chromium supports it) partitioned cookies, without duplicates. */
async function allCookies(): Promise<chrome.cookies.Cookie[]> {
  const found = await chrome.cookies.getAll({});
  try {
    // `partitionKey: {}` asks for cookies of every partition; older builds reject the argument.
    found.push(...(await chrome.cookies.getAll({ partitionKey: {} })));
  } catch (e) {
    debug('partitioned cookies unavailable', e instanceof Error ? e.message : e);
  }
  const seen = new Set<string>();
  return found.filter((c) => {
    const id = [c.name, c.domain, c.path, c.storeId, c.partitionKey?.topLevelSite ?? ''].join('\u0000');
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export function createCookieSource(): CaptureSource {
  let emit: Emit | null = null;

  const sendAll = () => {
    allCookies().then(
      (cookies) => {
        debug(`cookies.all: ${cookies.length}`);
        emit?.({ kind: 'cookies.all', cookies: cookies.map(toCookie) });
      },
      (e) => warn('cookies', 'getAll failed', e),
    );
  };

  const onChanged = (info: chrome.cookies.CookieChangeInfo) => {
    // An overwrite is reported as a removal followed by the new cookie; the second event says it all.
    if (info.removed && info.cause === 'overwrite') return;
    emit?.({ kind: 'cookie.change', cookie: toCookie(info.cookie), removed: info.removed });
  };

  return {
    name: 'cookies',
    start(e) {
      emit = e;
      chrome.cookies.onChanged.addListener(onChanged);
      sendAll();
    },
    stop() {
      chrome.cookies.onChanged.removeListener(onChanged);
      emit = null;
    },
    resync: sendAll,
  };
}
