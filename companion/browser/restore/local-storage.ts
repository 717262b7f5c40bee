/**
 * localStorage, plain and partitioned, written into the profile before any tab opens, through one
 * throw-away setup page whose requests page.route answers with blank documents (no network, no site
 * scripts). Why this way and not by init script: restore-state.ts's header.
 */
import type { BrowserContext, Frame, Page, Route } from 'playwright-core';
import type { OriginStorage, StorageItem } from '../../../shared/state.js';
import { escapeHtml, firstLine } from './strings.js';
import type { RestoreOutcome } from './types.js';

/** The setup page's path on every origin; the route answers it, no server ever sees it. */
const SETUP_PATH = '/__restory_setup__';

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

async function writeLocalStorage(target: Page | Frame, items: StorageItem[]): Promise<void> {
  await target.evaluate((pairs: Array<[string, string]>) => {
    localStorage.clear(); // the snapshot is the truth, also when restoring into a used profile
    for (const [k, v] of pairs) localStorage.setItem(k, v);
  }, items.map((i): [string, string] => [i.name, i.value]));
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
      const body = frames.map((f) => `<iframe src="${escapeHtml(f)}${SETUP_PATH}"></iframe>`).join('');
      await route.fulfill({ status: 200, contentType: 'text/html', headers: { 'cache-control': 'no-store' }, body });
    });
    for (const o of plain) {
      try {
        await page.goto(new URL(SETUP_PATH, o.origin).href, { waitUntil: 'commit' });
        await writeLocalStorage(page, o.localStorage);
        restored++;
      } catch (e) {
        outcome.failures.push({ what: `localStorage of ${o.origin}`, error: firstLine(e) });
      }
    }
    for (const [topOrigin, list] of partitioned) {
      const top = new URL(SETUP_PATH, topOrigin);
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
    await page.close().catch(() => {});
  }
  return restored;
}
