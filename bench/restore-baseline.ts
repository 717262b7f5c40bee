/**
 * The baselines of the CLI resume benchmark (resume-cli.ts), as a script of its own so each runs in
 * its own process like `restory resume` does: a Node process that imports Playwright, launches
 * Chromium with Playwright's launcher and opens the same URLs, either plainly (floor) or in a
 * context made from a Playwright storageState (storageState). Two more load restory's extension the
 * way Playwright must for any extension (a persistent context; its native host manifest in the
 * profile, so the extension starts its host as under restory — with no companion to talk to): plainly
 * (extension) and with the storageState set through BrowserContext.setStorageState (Playwright 1.59+;
 * extensionStorageState). They say what any tool that keeps an extension in the browser starts from.
 *
 *   node dist/bench/restore-baseline.js JOB.json     JOB: {"way": ..., "urls": [...], "storageState"?: {...}}
 *
 * Prints "ready" once every page has loaded, then waits for SIGINT / SIGTERM and closes the browser.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, BrowserContextOptions } from 'playwright-core';
import { chromium } from '../companion/browser/playwright.js';
import { DISABLED_FEATURES, QUIET_FLAGS } from '../companion/browser/chromium-flags.js';
import { findChromium } from '../companion/browser/find-chromium.js';
import { waitForServiceWorker } from '../companion/browser/launch.js';
import { writeHostManifest } from '../companion/native-host/manifest.js';
import { nativeHostScript, projectRoot } from '../companion/project-root.js';

interface Job {
  way: 'floor' | 'storageState' | 'extension' | 'extensionStorageState';
  urls: string[];
  storageState?: BrowserContextOptions['storageState'];
}

async function openAll(context: BrowserContext, urls: string[]): Promise<void> {
  const loads: Promise<unknown>[] = [];
  for (const url of urls) loads.push((await context.newPage()).goto(url, { waitUntil: 'load' }));
  await Promise.all(loads);
}

const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Job;
const common = {
  executablePath: findChromium(process.env),
  headless: true,
  chromiumSandbox: process.getuid?.() !== 0,
};
const flags = [...QUIET_FLAGS, `--disable-features=${DISABLED_FEATURES.join(',')}`];
let stopBrowser: () => Promise<void>;
if (job.way === 'floor' || job.way === 'storageState') {
  const browser = await chromium.launch({ ...common, args: flags });
  // The storageState is restory's capture of the same session in Playwright's own form.
  const context = await browser.newContext(job.way === 'storageState' ? { storageState: job.storageState } : {});
  await openAll(context, job.urls);
  stopBrowser = () => browser.close();
} else {
  const profile = mkdtempSync(join(tmpdir(), 'restory-baseline-'));
  const extensionDir = join(projectRoot(), 'dist', 'extension');
  await writeHostManifest({ userDataDir: profile, hostScript: nativeHostScript() });
  const context = await chromium.launchPersistentContext(profile, {
    ...common,
    args: [...flags, `--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`],
  });
  await waitForServiceWorker(context, 10_000);
  if (job.way === 'extensionStorageState' && job.storageState) await context.setStorageState(job.storageState as Parameters<BrowserContext['setStorageState']>[0]);
  await openAll(context, job.urls);
  stopBrowser = () => context.close().finally(() => rmSync(profile, { recursive: true, force: true }));
}
process.stdout.write('ready\n');
const stop = () => void stopBrowser().finally(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
