import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { askPlaywright } from '../../companion/browser/find-chromium.js';
import { memoKey, rememberedPlaywrightPath } from '../../companion/browser/playwright-chromium-memo.js';

let dir: string;
let file: string;
const saved = process.env.PLAYWRIGHT_BROWSERS_PATH;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'restory-memo-'));
  file = join(dir, 'playwright-chromium.json');
});
afterEach(() => {
  if (saved === undefined) delete process.env.PLAYWRIGHT_BROWSERS_PATH;
  else process.env.PLAYWRIGHT_BROWSERS_PATH = saved;
  rmSync(dir, { recursive: true, force: true });
});

/** An `ask` that counts its calls. */
function asker(answer: string | null) {
  const ask = () => {
    ask.calls++;
    return answer;
  };
  ask.calls = 0;
  return ask;
}

describe("Playwright's Chromium path, remembered", () => {
  test('asks Playwright once, then answers from the memo (owner-only file)', () => {
    const ask = asker('/pw/chrome');
    expect(rememberedPlaywrightPath(file, ask)).toBe('/pw/chrome');
    expect(rememberedPlaywrightPath(file, ask)).toBe('/pw/chrome');
    expect(ask.calls).toBe(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('"no Playwright Chromium here" is remembered too', () => {
    const ask = asker(null);
    expect(rememberedPlaywrightPath(file, ask)).toBeNull();
    expect(rememberedPlaywrightPath(file, ask)).toBeNull();
    expect(ask.calls).toBe(1);
  });

  test('asks again when what the answer depends on changes (PLAYWRIGHT_BROWSERS_PATH)', () => {
    rememberedPlaywrightPath(file, asker('/pw/chrome'));
    process.env.PLAYWRIGHT_BROWSERS_PATH = '/elsewhere';
    expect(memoKey()).toContain('/elsewhere');
    const ask = asker('/elsewhere/chrome');
    expect(rememberedPlaywrightPath(file, ask)).toBe('/elsewhere/chrome');
    expect(ask.calls).toBe(1);
  });

  test('a corrupt or foreign memo is asked again and replaced, not trusted', () => {
    for (const junk of ['{not json', JSON.stringify({ key: 7, path: '/x' }), JSON.stringify({ key: memoKey(), path: 42 })]) {
      writeFileSync(file, junk);
      const ask = asker('/pw/chrome');
      expect(rememberedPlaywrightPath(file, ask)).toBe('/pw/chrome');
      expect(ask.calls).toBe(1);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ key: memoKey(), path: '/pw/chrome' });
    }
  });

  test("gives Playwright's own answer on this machine", () => {
    expect(rememberedPlaywrightPath(file)).toBe(askPlaywright());
    expect(rememberedPlaywrightPath(file, () => 'never asked')).toBe(askPlaywright());
  });
});
