/**
 * Pages that push the limits, end to end through capture → snapshot → SIGKILL → resume (real CLI,
 * Chromium, extension, native messaging): localStorage filled to Chromium's 10 MiB quota (a ~15 MB
 * frame); keys and values with unicode, emoji, NUL characters and lone surrogates; 2,000 cookies over
 * 20 sites. Everything is
 * restored exactly — lone surrogates included: measured on Chromium 156, extension messaging and
 * native messaging carry them through (as JSON \uXXXX escapes, not as UTF-8, where they cannot
 * exist), and the companion keeps them as escapes too (JSON.stringify is well-formed since ES2019),
 * in the journal, the database and exports. Should a browser ever send a lone surrogate as raw UTF-8
 * bytes, the frame decoder refuses that frame as not valid UTF-8 (see fuzz-socket.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import type { RestoryExport } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { crashForeground, eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

const env = { RESTORY_SNAPSHOT_INTERVAL_MS: '1000' };

/** Keys and values a careless implementation would mangle. */
const TRICKY: [string, string][] = [
  ['emoji 😀👍🏽🇫🇷', 'value 👨‍👩‍👧‍👦 ✓'],
  ['nul\u0000in key', 'nul\u0000in\u0000value'],
  ['', 'empty key'],
  ['empty value', ''],
  ['rtl עברית العربية', 'zero\u200bwidth\ufeffbom'],
  ['controls \u0001\u001f\u007f', 'line\u2028sep\u2029para\r\n'],
  ['json-ish {"a":[1]}', '\\u0000 not an escape "quoted"'],
  ['astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\ud83d\ude00 paired surrogates = 😀'],
  ['lone high \ud800 in key', 'lone low \udc00 in value'],
  ['lone value', 'x\udbffy\udfff'],
];

describe('bad input: huge, strange and numerous (real Chromium, capture → snapshot → SIGKILL → resume)', () => {
  let site: TestSite;
  let dataDir: string;
  let first: ForegroundCompanion;
  let resumed: ForegroundCompanion | null = null;
  let browser: Browser;
  let context: BrowserContext;
  let cookiesBefore: string[];
  let bigChars: number;
  let bigKeys: number;

  const exported = async () => {
    const r = await runCli(['export', first.sessionId, '--data-dir', dataDir], env);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as RestoryExport;
  };
  const cookieKey = (c: { name: string; domain: string; path: string; value: string }) => `${c.domain}|${c.path}|${c.name}=${c.value}`;

  beforeAll(async () => {
    site = await startTestSite();
    dataDir = tempDir();
    first = await startForeground(['start', '--data-dir', dataDir, '--url', `${site.originA}/storage.html`], env);
    browser = await chromium.connectOverCDP(first.cdp);
    context = browser.contexts()[0];
    const page = await eventually(() => context.pages().find((p) => p.url().endsWith('/storage.html')), 15_000, 'the page');
    await page.evaluate((pairs) => {
      for (const [k, v] of pairs) localStorage.setItem(k, v);
      sessionStorage.setItem('sess 😀\u0000', 'v\u0000😀');
    }, TRICKY);

    // Origin B filled to Chromium's quota: 10 MiB counted as UTF-16, i.e. ~5.2 million characters.
    // They are CJK characters, 3 bytes each in UTF-8, so the capture event is a ~15 MB frame.
    const big = await context.newPage();
    await big.goto(`${site.originB}/big.html?mb=10`);
    bigKeys = await big.evaluate(() => {
      for (let size = 1 << 20, i = 0; size >= 64; size >>= 1) {
        try {
          for (;;) localStorage.setItem(`big${i++}`, '日'.repeat(size - 8));
        } catch {
          // over the quota at this size: go on with smaller values
        }
      }
      return localStorage.length;
    });
    bigChars = await big.evaluate(() => Object.keys(localStorage).reduce((n, k) => n + k.length + localStorage.getItem(k)!.length, 0));
    expect(bigChars * 2).toBeGreaterThan(10 * 1024 * 1024 - 4096);

    // 2,000 cookies over 20 domains (Chromium keeps at most 180 per site).
    const cookies = Array.from({ length: 2000 }, (_, i) => ({
      name: `c${i}`,
      value: encodeURIComponent(`v${i}-é😀`),
      domain: `d${i % 20}-restory.test`,
      path: '/',
      expires: Math.floor(Date.now() / 1000) + 86_400,
      sameSite: 'Lax' as const,
    }));
    await context.addCookies(cookies);
    cookiesBefore = (await context.cookies()).filter((c) => c.domain.endsWith('restory.test')).map(cookieKey).sort();
    expect(cookiesBefore).toHaveLength(2000);

    await eventually(
      async () => {
        const s = (await exported()).state;
        const a = s.origins.find((o) => o.origin === site.originA);
        const b = s.origins.find((o) => o.origin === site.originB);
        return (
          a?.localStorage.length === TRICKY.length &&
          b?.localStorage.length === bigKeys &&
          s.cookies.filter((c) => c.domain.endsWith('restory.test')).length === 2000
        );
      },
      30_000,
      'a snapshot with everything',
    );
    await browser.close().catch(() => {});
    expect(await crashForeground(first, dataDir)).toBe('SIGKILL');

    resumed = await startForeground(['resume', first.sessionId, '--data-dir', dataDir], env, 90_000);
    browser = await chromium.connectOverCDP(resumed.cdp);
    context = browser.contexts()[0];
  }, 180_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopForeground(resumed);
    await site?.close();
  });

  it('unicode, emoji, NUL and lone-surrogate keys and values come back exactly', async () => {
    const page = await eventually(() => context.pages().find((p) => p.url().startsWith(`${site.originA}/storage.html`)), 15_000, 'the restored page');
    const restored = await page.evaluate(() => Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)])));
    expect(restored).toEqual(Object.fromEntries(TRICKY));
    expect(restored['lone high \ud800 in key']).toBe('lone low \udc00 in value');
    expect(await page.evaluate(() => sessionStorage.getItem('sess 😀\u0000'))).toBe('v\u0000😀');
    // Exports (UTF-8 JSON) carry them as escapes.
    const r = await runCli(['export', first.sessionId, '--data-dir', dataDir], env);
    expect(r.stdout).toContain('lone high \\ud800 in key');
    expect(resumed!.stderr()).not.toMatch(/\n\s+at /);
  });

  it('10 MiB of localStorage (the quota) comes back whole, before the page scripts run', async () => {
    const log = await site.waitForStartupLog((l) => l.origin === site.originB && l.page === '/big.html?mb=10' && (l.sizes?.localKeys ?? 0) > 0, 20_000);
    expect(log.sizes).toMatchObject({ localKeys: bigKeys, localChars: bigChars });
  });

  it('2,000 cookies over 20 domains come back exactly', async () => {
    const after = (await context.cookies()).filter((c) => c.domain.endsWith('restory.test')).map(cookieKey).sort();
    expect(after).toEqual(cookiesBefore);
  });
});
