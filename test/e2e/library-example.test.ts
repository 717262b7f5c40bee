/** The README's library example, run as a user would (`node examples/library-demo.mjs`), so it cannot rot. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('examples/library-demo.mjs starts, survives a restart and resumes with its state', async () => {
  const script = fileURLToPath(new URL('../../examples/library-demo.mjs', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 90_000 });
  expect(stdout).toContain('after restart: demo recoverable');
  expect(stdout).toContain('restored 1/1 tabs');
  expect(stdout).toContain('page title on first load: hello from before the restart');
}, 120_000);
