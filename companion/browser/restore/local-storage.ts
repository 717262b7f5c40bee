/**
 * localStorage, plain and partitioned, written into the profile before any tab opens, through one
 * throw-away setup page whose requests page.route answers with blank documents (no network, no site
 * scripts). Why this way and not by init script: restore-state.ts's header.
 */
import type { BrowserContext, Frame, Page, Route } from 'playwright-core';
// The setup page's path is answered by page.route on every origin: no server ever sees it.
import { RESTORE_SETUP_PATH } from '../../../shared/constants.js';
import type { OriginStorage, StorageItem } from '../../../shared/state.js';
import { escapeHtml, firstLine } from './strings.js';
import type { RestoreOutcome } from './types.js';

function isHttpOrigin(origin: string): boolean {
  return /^https?:\/\//.test(origin);
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/**
 * Chromium's DevTools WebSocket handles a large message in time that grows faster than its size:
 * measured on Chromium 156 over connectOverCDP, one evaluate carrying 10 MiB of localStorage (15 MB
 * of UTF-8) took 42 s, the same data in messages of 256 Ki characters ~4 s. So nothing larger than
 * this crosses in one call; longer values are sent in pieces and joined in the setup page.
 */
const MESSAGE_CHARS = 256 * 1024;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Replace the origin's localStorage with `items`, in calls of at most MESSAGE_CHARS characters. */
async function writeLocalStorage(target: Page | Frame, items: StorageItem[]): Promise<void> {
  // The snapshot is the truth, also when restoring into a used profile. The setup page runs no site
  // code, so the partial value kept on its window between calls is seen by nobody else.
  await target.evaluate(() => {
    localStorage.clear();
    (window as unknown as { restoryPart: string }).restoryPart = '';
  });
  let batch: Array<[string, string]> = [];
  let batchChars = 0;
  const flush = async () => {
    if (!batch.length) return;
    await target.evaluate((pairs: Array<[string, string]>) => {
      for (const [k, v] of pairs) localStorage.setItem(k, v);
    }, batch);
    batch = [];
    batchChars = 0;
  };
  for (const { name, value } of items) {
    if (name.length + value.length <= MESSAGE_CHARS) {
      if (batchChars + name.length + value.length > MESSAGE_CHARS) await flush();
      batch.push([name, value]);
      batchChars += name.length + value.length;
      continue;
    }
    await flush();
    let at = 0;
    while (at + MESSAGE_CHARS < value.length) {
      let end = at + MESSAGE_CHARS;
      if (isHighSurrogate(value.charCodeAt(end - 1))) end--; // never split a pair across messages
      await target.evaluate((piece: string) => {
        (window as unknown as { restoryPart: string }).restoryPart += piece;
      }, value.slice(at, end));
      at = end;
    }
    await target.evaluate(([k, last]: [string, string]) => {
      const w = window as unknown as { restoryPart: string };
      localStorage.setItem(k, w.restoryPart + last);
      w.restoryPart = '';
    }, [name, value.slice(at)] as [string, string]);
  }
  await flush();
}

/** Returns how many origins were written; every origin that could not be is in outcome.failures. */
export async function restoreLocalStorage(
  context: BrowserContext,
  origins: OriginStorage[],
  outcome: RestoreOutcome,
): Promise<number> {
  const wanted = origins.filter((o) => o.localStorage.length > 0);
  for (const o of wanted.filter((o) => !isHttpOrigin(o.origin) || (o.topOrigin && !isHttpOrigin(o.topOrigin)))) {
    outcome.failures.push({ what: `localStorage of ${o.origin}`, error: 'only http(s) origins can be restored' });
  }
  const plain = wanted.filter((o) => isHttpOrigin(o.origin) && !o.topOrigin);
  const partitioned = new Map<string, OriginStorage[]>();
  for (const o of wanted) {
    if (!o.topOrigin || !isHttpOrigin(o.origin) || !isHttpOrigin(o.topOrigin)) continue;
    partitioned.set(o.topOrigin, [...(partitioned.get(o.topOrigin) ?? []), o]);
  }
  if (!plain.length && !partitioned.size) return 0;

  let restored = 0;
  const page = await context.newPage();
  try {
    // Answer everything the setup page asks for locally: nothing reaches the network, no site code runs.
    await page.route('**/*', async (route: Route) => {
      const url = new URL(route.request().url());
      const frames = url.searchParams.getAll('frame');
      const body = frames.map((f) => `<iframe src="${escapeHtml(f)}${RESTORE_SETUP_PATH}"></iframe>`).join('');
      await route.fulfill({ status: 200, contentType: 'text/html', headers: { 'cache-control': 'no-store' }, body });
    });
    for (const o of plain) {
      try {
        await page.goto(new URL(RESTORE_SETUP_PATH, o.origin).href, { waitUntil: 'commit' });
        await writeLocalStorage(page, o.localStorage);
        restored++;
      } catch (e) {
        outcome.failures.push({ what: `localStorage of ${o.origin}`, error: firstLine(e) });
      }
    }
    for (const [topOrigin, list] of partitioned) {
      const top = new URL(RESTORE_SETUP_PATH, topOrigin);
      for (const o of list) top.searchParams.append('frame', o.origin);
      try {
        await page.goto(top.href, { waitUntil: 'load' });
      } catch (e) {
        for (const o of list) outcome.failures.push({ what: `localStorage of ${o.origin} under ${topOrigin}`, error: firstLine(e) });
        continue;
      }
      for (const o of list) {
        try {
          const frame = page.frames().find((f) => f !== page.mainFrame() && sameOrigin(f.url(), o.origin));
          if (!frame) throw new Error('its frame did not load');
          await writeLocalStorage(frame, o.localStorage);
          restored++;
        } catch (e) {
          outcome.failures.push({ what: `localStorage of ${o.origin} under ${topOrigin}`, error: firstLine(e) });
        }
      }
    }
  } finally {
    // Leave the last origin by navigating before closing. Closing right away can end its renderer
    // before the storage service has the last writes: measured on Chromium 156, a tab opened next saw
    // 4 of 5 freshly written 1 MiB keys in 3 of 8 runs, and 5 of 5 in 32 of 32 after this navigation.
    await page.goto('about:blank').catch(() => {});
    await page.close().catch(() => {});
  }
  return restored;
}
