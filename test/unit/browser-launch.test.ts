import { afterEach, expect, test } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBrowserPid } from '../../companion/browser/browser-pid.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

test('findBrowserPid picks the browser process of this profile, not its children or other profiles', async () => {
  const proc = await mkdtemp(join(tmpdir(), 'restory-proc-'));
  dirs.push(proc);
  const fake = async (pid: number, argv: string[]) => {
    await mkdir(join(proc, String(pid)));
    await writeFile(join(proc, String(pid), 'cmdline'), argv.join('\0') + '\0');
  };
  await fake(100, ['/usr/lib/chromium/chromium', '--user-data-dir=/other', '--no-first-run']);
  await fake(200, ['/usr/lib/chromium/chromium', '--no-first-run', '--user-data-dir=/tmp/p', 'about:blank']);
  await fake(201, ['/usr/lib/chromium/chromium', '--type=renderer', '--user-data-dir=/tmp/p']);
  await fake(150, ['/usr/lib/chromium/chromium', '--type=zygote', '--user-data-dir=/tmp/p']);
  await mkdir(join(proc, 'self'));
  expect(await findBrowserPid('/tmp/p', proc)).toBe(200);
  expect(await findBrowserPid('/tmp/none', proc)).toBeUndefined();
  expect(await findBrowserPid('/tmp/p', join(proc, 'missing'))).toBeUndefined();
});
