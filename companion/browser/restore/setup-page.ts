/**
 * The setup page: one throw-away page (or the browser's start-up tab) whose requests page.route
 * answers with blank documents (no network, no site scripts), which visits each origin whose storage
 * a restore writes before any tab opens — localStorage (local-storage.ts) and IndexedDB
 * (indexeddb.ts) alike. Partitioned storage (a cross-site iframe's) is written from a blank frame of
 * its origin inside a document of its top origin. Why this way and not by init script:
 * restore-state.ts's header.
 */
import type { BrowserContext, Frame, Page, Route } from 'playwright-core';
// The setup page's path is answered by page.route on every origin: no server ever sees it.
import { RESTORE_SETUP_PATH } from '../../../shared/constants.js';
import type { OriginStorage } from '../../../shared/state.js';
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
 * An idle page to write through (the browser's start-up tab) instead of opening one, which is most
 * of a second on a busy machine. `continuesAt`: the origin the page goes on to as a tab of its own
 * (restore-state.ts). That origin is written last and the page is left on its setup document, so
 * the tab's first page of that site loads in the renderer already running there instead of
 * starting another (~0.3 s, measured); without it the page is left on about:blank for the caller.
 */
export interface SetupPage {
  page: Page;
  continuesAt?: string;
}

/**
 * How the setup page's requests are answered (page.route): locally, with a blank document, so nothing
 * reaches the network and no site code runs; for partitioned storage, blank iframes of each `frame`
 * origin under the requested top origin. IndexedDB's writes use the same page and the same answer.
 */
export async function answerSetupRequest(route: Route): Promise<void> {
  const url = new URL(route.request().url());
  const frames = url.searchParams.getAll('frame');
  const body = frames.map((f) => `<iframe src="${escapeHtml(f)}${RESTORE_SETUP_PATH}"></iframe>`).join('');
  await route.fulfill({ status: 200, contentType: 'text/html', headers: { 'cache-control': 'no-store' }, body });
}

/**
 * Open `topOrigin`'s setup document with a blank iframe of each of `origins` in it (partitioned
 * storage is reached from inside such frames), on `page`, which must route with answerSetupRequest.
 * Resolves with each origin's frame; one that did not load is missing.
 */
async function partitionFrames(page: Page, topOrigin: string, origins: string[]): Promise<Map<string, Frame>> {
  const top = new URL(RESTORE_SETUP_PATH, topOrigin);
  for (const o of origins) top.searchParams.append('frame', o);
  await page.goto(top.href, { waitUntil: 'load' });
  const frames = new Map<string, Frame>();
  for (const o of origins) {
    const frame = page.frames().find((f) => f !== page.mainFrame() && sameOrigin(f.url(), o));
    if (frame) frames.set(o, frame);
  }
  return frames;
}

/**
 * The origins a setup page writes `what` of, in the order it visits them: partitioned ones grouped by
 * their top origin, first (so the page ends on a plain origin's document), then plain ones, the one
 * the page continues at last. An origin that is not http(s), or under a top origin that is not,
 * cannot be visited: it is a failure in `outcome`.
 */
function setupOrder(
  wanted: OriginStorage[],
  what: string,
  outcome: RestoreOutcome,
  setup?: SetupPage,
): { plain: OriginStorage[]; partitioned: Map<string, OriginStorage[]> } {
  const visitable = (o: OriginStorage) => isHttpOrigin(o.origin) && (!o.topOrigin || isHttpOrigin(o.topOrigin));
  for (const o of wanted.filter((o) => !visitable(o))) outcome.failures.push({ what: `${what} of ${o.origin}`, error: 'only http(s) origins can be restored' });
  const plain = endingAt(wanted.filter((o) => visitable(o) && !o.topOrigin), setup?.continuesAt);
  const partitioned = new Map<string, OriginStorage[]>();
  for (const o of wanted) if (visitable(o) && o.topOrigin) partitioned.set(o.topOrigin, [...(partitioned.get(o.topOrigin) ?? []), o]);
  return { plain, partitioned };
}

/** `origins` in order, the one `continuesAt` names (if any) last. */
function endingAt<T extends { origin: string }>(origins: T[], continuesAt: string | undefined): T[] {
  return continuesAt === undefined ? origins : [...origins.filter((o) => o.origin !== continuesAt), ...origins.filter((o) => o.origin === continuesAt)];
}

/**
 * Visit each origin of `wanted` on the setup page and run `write` in a document of it (a frame of it
 * under its top origin for partitioned storage), in setupOrder's order. An origin that cannot be
 * visited or written is a failure in `outcome` ("`what` of origin [under top]"); the others go on.
 * A page opened here (no `setup`) is closed here; a setup page is left to the caller (the last window
 * closing would end a headed browser), without the route this installed.
 */
export async function writeOnSetupPage(
  context: BrowserContext,
  wanted: OriginStorage[],
  what: string,
  outcome: RestoreOutcome,
  setup: SetupPage | undefined,
  write: (target: Page | Frame, o: OriginStorage) => Promise<void>,
): Promise<void> {
  const { plain, partitioned } = setupOrder(wanted, what, outcome, setup);
  if (plain.length === 0 && partitioned.size === 0) return;
  const page = setup?.page ?? (await context.newPage());
  try {
    await page.route('**/*', answerSetupRequest);
    for (const [topOrigin, list] of partitioned) {
      const frames = await partitionFrames(page, topOrigin, list.map((o) => o.origin)).catch((e: Error) => e);
      for (const o of list) {
        try {
          if (frames instanceof Error) throw frames;
          const frame = frames.get(o.origin);
          if (!frame) throw new Error('its frame did not load');
          await write(frame, o);
        } catch (e) {
          outcome.failures.push({ what: `${what} of ${o.origin} under ${topOrigin}`, error: firstLine(e) });
        }
      }
    }
    for (const o of plain) {
      try {
        await page.goto(new URL(RESTORE_SETUP_PATH, o.origin).href, { waitUntil: 'commit' });
        await write(page, o);
      } catch (e) {
        outcome.failures.push({ what: `${what} of ${o.origin}`, error: firstLine(e) });
      }
    }
  } finally {
    // Leave the last origin by navigating before closing. Closing right away can end its renderer
    // before the storage service has the last writes: measured on Chromium 156, a tab opened next saw
    // 4 of 5 freshly written 1 MiB keys in 3 of 8 runs, and 5 of 5 in 32 of 32 after this navigation.
    // A page that continues as a tab keeps its renderer, and with it what was written there.
    if (!setup?.continuesAt) await page.goto('about:blank').catch(() => {});
    await page.unroute('**/*', answerSetupRequest).catch(() => {});
    if (!setup) await page.close().catch(() => {});
  }
}
