/**
 * Form fields in iframes an SPA inserts after its load event (real CLI, Chromium, extension): text
 * typed into a same-site and a cross-site iframe that appeared 1.5 s after load is captured, and
 * after SIGKILL + `restory resume` it is put back once the page has inserted those iframes again —
 * the restore follows frames that navigate after the first pass (companion/browser/restore/forms.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startFormsSite, type FormsSite } from '../fixtures/forms-site.js';
import { crashForeground, eventually, exportSession, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };
const TYPED = { same: 'Lyon', cross: 'Bergen' };
const cityIn = (page: Page, id: string) => page.frameLocator(`#${id}`).locator('[name=city]').inputValue();

describe('form fields in iframes inserted after load', () => {
  let site: FormsSite;
  let dataDir: string;
  let sessionId: string;
  let resumed: ForegroundCompanion | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    site = await startFormsSite();
    dataDir = tempDir();
    const first = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.origin}/late.html`], env);
    sessionId = first.sessionId;
    const b1 = await chromium.connectOverCDP(first.cdp);
    const page = await eventually(() => b1.contexts()[0].pages().find((p) => p.url().endsWith('/late.html')), 15_000, 'the late tab');
    for (const id of ['same', 'cross'] as const) await page.frameLocator(`#${id}`).locator('[name=city]').fill(TYPED[id]);
    await eventually(
      async () => {
        const forms = (await exportSession(sessionId, dataDir, env)).state.tabs.flatMap((t) => t.forms ?? []);
        return [`${site.origin}/inner.html?late`, `${site.crossOrigin}/inner.html?latecross`].every((url) => forms.some((f) => f.url === url && f.fields.length === 1));
      },
      20_000,
      'a snapshot with both late iframes\' fields',
    );
    await b1.close().catch(() => {});
    expect(await crashForeground(first, dataDir)).toBe('SIGKILL');
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(resumed);
    await site?.close();
  });

  it('resume fills both once the page has inserted them again', async () => {
    resumed = await startForeground(['resume', sessionId, '--data-dir', dataDir], env);
    browser = await chromium.connectOverCDP(resumed.cdp);
    const page = await eventually(() => browser!.contexts()[0].pages().find((p) => p.url().endsWith('/late.html')), 15_000, 'the resumed tab');
    await eventually(async () => (await cityIn(page, 'same')) === TYPED.same && (await cityIn(page, 'cross')) === TYPED.cross, 10_000, 'both late iframes filled');
  }, 60_000);
});
