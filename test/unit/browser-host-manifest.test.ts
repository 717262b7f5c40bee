import { afterEach, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hostManifestDirs,
  removeHostManifestFrom,
  shellQuote,
  writeHostManifest,
  writeHostManifestTo,
} from '../../companion/native-host/manifest.js';
import { EXTENSION_ID, NATIVE_HOST_NAME } from '../../shared/constants.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "restory host 'manifest' "));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('writeHostManifest', () => {
  test('writes the manifest into <userDataDir>/NativeMessagingHosts with our origin only', async () => {
    const userDataDir = await tempDir();
    const { manifestPath, launcherPath } = await writeHostManifest({ userDataDir, hostScript: '/x/main.js' });
    expect(manifestPath).toBe(join(userDataDir, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`));
    expect(JSON.parse(await readFile(manifestPath, 'utf8'))).toEqual({
      name: NATIVE_HOST_NAME,
      description: expect.any(String),
      path: launcherPath,
      type: 'stdio',
      allowed_origins: [`chrome-extension://${EXTENSION_ID}/`],
    });
    expect((await stat(launcherPath)).mode & 0o777).toBe(0o700);
  });

  test('the launcher runs the host with an absolute node, paths with quotes and spaces, args and env intact', async () => {
    const dir = await tempDir(); // its name has spaces and single quotes
    const hostScript = join(dir, "host 'main'.js");
    await writeFile(hostScript, 'process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), v: process.env.RESTORY_X }))');
    const { launcherPath } = await writeHostManifestTo(join(dir, 'hosts'), { hostScript, env: { RESTORY_X: "it's $HOME" } });
    const script = await readFile(launcherPath, 'utf8');
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain(shellQuote(process.execPath));
    // Chromium may start the host with a trimmed PATH: the launcher must not need one.
    const out = execFileSync(launcherPath, ['chrome-extension://abc/', '--parent-window=0'], { env: { PATH: '' } }).toString();
    expect(JSON.parse(out)).toEqual({ argv: ['chrome-extension://abc/', '--parent-window=0'], v: "it's $HOME" });
  });

  test('removeHostManifestFrom deletes both files and tolerates their absence', async () => {
    const dir = await tempDir();
    const { manifestPath, launcherPath } = await writeHostManifestTo(dir, { hostScript: '/x/main.js' });
    await removeHostManifestFrom(dir);
    await removeHostManifestFrom(dir);
    await expect(stat(manifestPath)).rejects.toThrow();
    await expect(stat(launcherPath)).rejects.toThrow();
  });
});

describe('hostManifestDirs', () => {
  test('linux user-level folders', () => {
    expect(hostManifestDirs('chromium', 'linux', '/home/u')).toEqual(['/home/u/.config/chromium/NativeMessagingHosts']);
    expect(hostManifestDirs('chrome', 'linux', '/home/u')[0]).toBe('/home/u/.config/google-chrome/NativeMessagingHosts');
    expect(hostManifestDirs('edge', 'linux', '/home/u')).toEqual(['/home/u/.config/microsoft-edge/NativeMessagingHosts']);
    expect(hostManifestDirs('brave', 'linux', '/home/u', '/xdg')).toEqual(['/xdg/BraveSoftware/Brave-Browser/NativeMessagingHosts']);
  });

  test('darwin user-level folders', () => {
    expect(hostManifestDirs('chrome', 'darwin', '/Users/u')[0]).toBe('/Users/u/Library/Application Support/Google/Chrome/NativeMessagingHosts');
    expect(hostManifestDirs('chromium', 'darwin', '/Users/u')).toEqual(['/Users/u/Library/Application Support/Chromium/NativeMessagingHosts']);
  });

  test('refuses platforms that register hosts elsewhere', () => {
    expect(() => hostManifestDirs('chrome', 'win32', 'C:/Users/u')).toThrow(/win32/);
  });
});
