/**
 * The baselines of the CLI resume benchmark (resume-cli.ts), as a script of its own so each runs in
 * its own process like `restory resume` does: a Node process that imports Playwright, launches
 * Chromium with Playwright's launcher and opens the same URLs, either plainly (floor) or in a
 * context made from a Playwright storageState (storageState).
 *
 *   node dist/bench/restore-baseline.js JOB.json     JOB: {"way": "floor"|"storageState", "urls": [...], "storageState"?: {...}}
 *
 * Prints "ready" once every page has loaded, then waits for SIGINT / SIGTERM and closes the browser.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, BrowserContextOptions } from 'playwright-core';
import { chromium } from '../companion/browser/playwright.js';
import { DISABLED_FEATURES, QUIET_FLAGS } from '../companion/browser/chromium-flags.js';
import { findChromium } from '../companion/browser/find-chromium.js';

interface Job {
  way: 'floor' | 'storageState';
  urls: string[];
  storageState?: BrowserContextOptions['storageState'];
}

async function openAll(context: BrowserContext, urls: string[]): Promise<void> {
  const loads: Promise<unknown>[] = [];
  for (const url of urls) loads.push((await context.newPage()).goto(url, { waitUntil: 'load' }));
  await Promise.all(loads);
}

const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Job;
const browser = await chromium.launch({
  executablePath: findChromium(process.env),
  headless: true,
  args: [...QUIET_FLAGS, `--disable-features=${DISABLED_FEATURES.join(',')}`],
  chromiumSandbox: process.getuid?.() !== 0,
});
// The storageState is restory's capture of the same session in Playwright's own form.
const context = await browser.newContext(job.way === 'storageState' ? { storageState: job.storageState } : {});
await openAll(context, job.urls);
process.stdout.write('ready\n');
const stop = () => void browser.close().finally(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
