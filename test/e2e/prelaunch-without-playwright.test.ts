/**
 * `restory resume` starts Chromium before anything heavy loads (session-browser-spawn.ts): finding the
 * browser must not load Playwright (~0.4 s of a 2-core machine before Chromium could start). The first
 * launch on a data dir asks Playwright where its own Chromium would be and remembers the answer
 * (browser/playwright-chromium-memo.ts); every later one starts Chromium from the memo. Checked in a
 * Node process of its own, on the built modules, as the CLI runs them: which packages are loaded when
 * the Chromium process exists, and that the browser then answers and is ended with its record.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../helpers/temp-dirs.js';

const SPAWN_MODULE = resolve(import.meta.dirname, '../../dist/companion/session/session-browser-spawn.js');

const SCRIPT = `
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
const { prelaunchSessionBrowser, discardPrelaunched } = await import(process.argv[2]);
// The browser is detached and unref'd (it may outlive this process): keep the loop up to see it exit.
const keepAlive = setInterval(() => {}, 1000);
const p = prelaunchSessionBrowser(process.argv[3], process.argv[4], {});
await p.started;
const playwrightLoaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/playwright-core/'));
const browser = await p.spawned;
const answered = (await fetch(browser.cdpEndpoint + '/json/version')).ok;
await discardPrelaunched(p);
clearInterval(keepAlive);
console.log(JSON.stringify({ playwrightLoaded, answered, profileLeft: existsSync(browser.userDataDir) }));
`;

afterAll(removeTempDirs);

describe('a session browser starts without loading Playwright', () => {
  it('asks Playwright once per data dir, then starts Chromium from the remembered path', () => {
    const dir = tempDir();
    const script = join(dir, 'prelaunch.mjs');
    writeFileSync(script, SCRIPT);
    const dataDir = join(dir, 'data');
    const run = (id: string) => {
      const r = spawnSync(process.execPath, [script, SPAWN_MODULE, dataDir, id], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { playwrightLoaded: boolean; answered: boolean; profileLeft: boolean };
    };
    const memo = join(dataDir, 'playwright-chromium.json');

    expect(run('11111111-1111-4111-8111-111111111111')).toEqual({ playwrightLoaded: true, answered: true, profileLeft: false });
    expect(existsSync(memo)).toBe(true);
    expect(statSync(memo).mode & 0o777).toBe(0o600);

    expect(run('22222222-2222-4222-8222-222222222222')).toEqual({ playwrightLoaded: false, answered: true, profileLeft: false });
    expect(existsSync(join(dataDir, 'browsers', '22222222-2222-4222-8222-222222222222.json'))).toBe(false);
  }, 120_000);
});
