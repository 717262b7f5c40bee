import { describe, expect, test } from 'vitest';
import { findChromium, SYSTEM_CHROMIUM_PATHS } from '../../companion/browser/find-chromium.js';
import { RestoryError } from '../../shared/errors.js';

const fakeFs = (present: string[], playwright: string | null = '/pw/chrome') => ({
  exists: (p: string) => present.includes(p),
  playwrightPath: () => playwright,
});

describe('findChromium', () => {
  test('prefers RESTORY_CHROMIUM when the file exists', () => {
    expect(findChromium({ RESTORY_CHROMIUM: '/opt/my-chromium' }, fakeFs(['/opt/my-chromium', '/pw/chrome']))).toBe('/opt/my-chromium');
  });

  test('fails loudly when RESTORY_CHROMIUM points nowhere instead of silently using another browser', () => {
    expect(() => findChromium({ RESTORY_CHROMIUM: '/nope' }, fakeFs(['/usr/lib/chromium/chromium']))).toThrow(/RESTORY_CHROMIUM.*\/nope/);
  });

  test("then Playwright's own Chromium, only if it is installed", () => {
    expect(findChromium({}, fakeFs(['/pw/chrome', '/usr/lib/chromium/chromium']))).toBe('/pw/chrome');
    expect(findChromium({}, fakeFs(['/usr/lib/chromium/chromium']))).toBe('/usr/lib/chromium/chromium');
  });

  test('then the system paths in order', () => {
    expect(findChromium({}, fakeFs(['/usr/bin/chromium-browser', '/usr/bin/chromium'], null))).toBe('/usr/bin/chromium');
    expect(findChromium({}, fakeFs(['/usr/bin/chromium-browser'], null))).toBe('/usr/bin/chromium-browser');
  });

  test('names every path tried and how to install when nothing is found', () => {
    let error: unknown;
    try {
      findChromium({}, fakeFs([]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RestoryError);
    expect((error as RestoryError).code).toBe('launch_failed');
    const message = (error as RestoryError).message;
    for (const path of ['/pw/chrome', ...SYSTEM_CHROMIUM_PATHS]) expect(message).toContain(path);
    expect(message).toContain('apt-get install chromium');
    expect(message).toContain('RESTORY_CHROMIUM');
  });

  test('finds the real Chromium on this machine', () => {
    expect(findChromium({})).toMatch(/chrom/);
  });
});
