/** The examples in examples/, run as a user would (`node examples/…`), so they cannot rot. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = async (name: string) => {
  const script = fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
  return (await promisify(execFile)(process.execPath, [script], { timeout: 90_000 })).stdout;
};

it('examples/library-demo.mjs starts, survives a restart and resumes with its state', async () => {
  const stdout = await run('library-demo.mjs');
  expect(stdout).toContain('after restart: demo recoverable');
  expect(stdout).toContain('restored 1/1 tabs');
  expect(stdout).toContain('page title on first load: hello from before the restart');
}, 120_000);

it('examples/crash-survival.mjs: a CDP script carries on, logged in, after companion and browser were SIGKILLed', async () => {
  const stdout = await run('crash-survival.mjs');
  expect(stdout).toContain('before the crash: Logged in as alice');
  expect(stdout).toContain('after the crash: Logged in as alice');
  expect(stdout).toContain('draft: an unsent message');
}, 120_000);

it('examples/export-storage-state.mjs: a fresh browser from the Playwright export is logged in', async () => {
  expect(await run('export-storage-state.mjs')).toContain('fresh browser from the export: Logged in as alice');
}, 120_000);
