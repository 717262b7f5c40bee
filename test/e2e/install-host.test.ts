/**
 * `restory install-host --user-data-dir DIR`: a browser the user starts with its own profile, as
 * Playwright's launchPersistentContext does, finds restory's native host there and is captured by
 * the companion of the data dir the host was bound to (real CLI, Chromium, extension, native
 * messaging, companion process).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext } from 'playwright-core';
import { findChromium } from '../../companion/browser/find-chromium.js';
import { NATIVE_HOST_NAME } from '../../shared/constants.js';
import type { SessionSummary } from '../../shared/state.js';
import { startTestSite, type TestSite } from '../fixtures/test-site.js';
import { eventually, runCli, startForeground, stopForeground, type ForegroundCompanion } from '../helpers/restory-cli.js';
import { tempDir } from '../helpers/temp-dirs.js';

describe('install-host --user-data-dir (a persistent Playwright profile)', () => {
  let site: TestSite;
  let companion: ForegroundCompanion | undefined;
  let context: BrowserContext | undefined;
  const dataDir = tempDir();
  const profile = join(tempDir('restory-profile-test-'), 'profile');

  beforeAll(async () => {
    site = await startTestSite();
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    await stopForeground(companion);
    await site?.close();
  });

  it('writes the host into DIR/NativeMessagingHosts, bound to the data dir, and says so', async () => {
    const r = await runCli(['install-host', '--user-data-dir', profile, '--data-dir', dataDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { manifests: string[]; extensionDir: string; dataDir: string };
    const manifest = join(profile, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`);
    expect(out.manifests).toEqual([manifest]);
    expect(out.dataDir).toBe(dataDir);
    const launcher = (JSON.parse(readFileSync(manifest, 'utf8')) as { path: string }).path;
    expect(statSync(launcher).mode & 0o777).toBe(0o700);
    expect(readFileSync(launcher, 'utf8')).toContain(dataDir);

    const text = await runCli(['install-host', '--user-data-dir', profile, '--data-dir', dataDir]);
    expect(text.stdout).toContain(`the host delivers to the companion of data dir ${dataDir}`);
    expect(text.stdout).toContain('launchPersistentContext');
  });

  it('the browser started with that profile is captured as a session of that data dir', async () => {
    companion = await startForeground(['start', '--data-dir', dataDir]);
    const extensionDir = (JSON.parse((await runCli(['install-host', '--user-data-dir', profile, '--data-dir', dataDir, '--json'])).stdout) as { extensionDir: string }).extensionDir;
    expect(existsSync(join(extensionDir, 'manifest.json'))).toBe(true);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: findChromium(process.env),
      headless: true,
      ignoreDefaultArgs: ['--disable-extensions'],
      args: [`--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${site.originA}/storage.html`);
    await page.evaluate(() => localStorage.setItem('own', 'profile'));

    const own = await eventually(
      async () => {
        const r = await runCli(['list', '--json', '--data-dir', dataDir]);
        return (JSON.parse(r.stdout) as SessionSummary[]).find((s) => s.id !== companion!.sessionId && s.currentUrl?.endsWith('/storage.html'));
      },
      20_000,
      'a session for the persistent profile',
    );
    expect(own).toMatchObject({ state: 'active', name: 'own browser' });
  });
});
