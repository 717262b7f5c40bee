/**
 * Native messaging host registration. Chromium finds the host through a JSON manifest; with a custom
 * --user-data-dir it only looks in `<user-data-dir>/NativeMessagingHosts/` (DESIGN.md), so the launcher
 * writes it into every profile it starts, restored ones included. `restory install-host` uses the same
 * writer with the user-level folders of installed browsers (hostManifestDirs).
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { EXTENSION_ORIGIN, NATIVE_HOST_NAME } from '../../shared/constants.js';

export type HostBrowser = 'chrome' | 'chromium' | 'edge' | 'brave';
export const HOST_BROWSERS: readonly HostBrowser[] = ['chrome', 'chromium', 'edge', 'brave'];

export interface HostManifest {
  name: string;
  description: string;
  path: string;
  type: 'stdio';
  allowed_origins: string[];
}

export interface HostFiles {
  manifestPath: string;
  launcherPath: string;
}

/** Quote for POSIX sh: single quotes, each embedded ' closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The launcher Chromium spawns. The host inherits the browser's environment, whose PATH may be
 * trimmed, so `#!/usr/bin/env node` is not reliable: call node by absolute path.
 */
export function launcherScript(nodePath: string, hostScript: string, env: Record<string, string> = {}): string {
  const exports = Object.entries(env).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid environment variable name: ${name}`);
    return `export ${name}=${shellQuote(value)}\n`;
  });
  return `#!/bin/sh\n${exports.join('')}exec ${shellQuote(resolve(nodePath))} ${shellQuote(resolve(hostScript))} "$@"\n`;
}

export function hostManifest(launcherPath: string): HostManifest {
  if (!isAbsolute(launcherPath)) throw new Error(`native host path must be absolute: ${launcherPath}`);
  return {
    name: NATIVE_HOST_NAME,
    description: 'restory companion native messaging host',
    path: launcherPath,
    type: 'stdio',
    allowed_origins: [EXTENSION_ORIGIN],
  };
}

export interface HostManifestOptions {
  /** Entry of the native host (dist/companion/native-host/main.js). */
  hostScript: string;
  /** Node binary the launcher runs; default the current one. */
  nodePath?: string;
  /**
   * Variables the launcher exports before starting the host. Not needed for browsers the companion
   * launches (the host inherits their environment); for a user's own browser (`install-host`).
   */
  env?: Record<string, string>;
}

/** Write `<dir>/<NATIVE_HOST_NAME>.json` and its launcher `<dir>/<NATIVE_HOST_NAME>.sh` (mode 0700). */
export async function writeHostManifestTo(dir: string, opts: HostManifestOptions): Promise<HostFiles> {
  const absDir = resolve(dir);
  await mkdir(absDir, { recursive: true });
  const launcherPath = join(absDir, `${NATIVE_HOST_NAME}.sh`);
  const manifestPath = join(absDir, `${NATIVE_HOST_NAME}.json`);
  await writeFile(launcherPath, launcherScript(opts.nodePath ?? process.execPath, opts.hostScript, opts.env), { mode: 0o700 });
  await chmod(launcherPath, 0o700); // writeFile's mode applies only when it creates the file
  await writeFile(manifestPath, `${JSON.stringify(hostManifest(launcherPath), null, 2)}\n`);
  return { manifestPath, launcherPath };
}

/** Remove what writeHostManifestTo wrote (for `install-host --uninstall`); missing files are fine. */
export async function removeHostManifestFrom(dir: string): Promise<void> {
  await rm(join(dir, `${NATIVE_HOST_NAME}.json`), { force: true });
  await rm(join(dir, `${NATIVE_HOST_NAME}.sh`), { force: true });
}

/** Register the host in a profile the companion launches: `<userDataDir>/NativeMessagingHosts/`. */
export async function writeHostManifest(opts: HostManifestOptions & { userDataDir: string }): Promise<HostFiles> {
  return writeHostManifestTo(join(opts.userDataDir, 'NativeMessagingHosts'), opts);
}

/**
 * User-level NativeMessagingHosts folders of a browser (default profiles, not --user-data-dir ones).
 * Linux honours XDG_CONFIG_HOME through `configHome`. Windows registers hosts in the registry: unsupported.
 */
export function hostManifestDirs(
  browser: HostBrowser,
  platform: NodeJS.Platform = process.platform,
  home: string,
  configHome: string = join(home, '.config'),
): string[] {
  if (platform === 'linux') {
    const roots: Record<HostBrowser, string[]> = {
      chrome: ['google-chrome', 'google-chrome-beta', 'google-chrome-unstable'],
      chromium: ['chromium'],
      edge: ['microsoft-edge'],
      brave: ['BraveSoftware/Brave-Browser'],
    };
    return roots[browser].map((r) => join(configHome, r, 'NativeMessagingHosts'));
  }
  if (platform === 'darwin') {
    const support = join(home, 'Library', 'Application Support');
    const roots: Record<HostBrowser, string[]> = {
      chrome: ['Google/Chrome', 'Google/Chrome Beta', 'Google/Chrome Canary'],
      chromium: ['Chromium'],
      edge: ['Microsoft Edge'],
      brave: ['BraveSoftware/Brave-Browser'],
    };
    return roots[browser].map((r) => join(support, r, 'NativeMessagingHosts'));
  }
  throw new Error(`native host registration is not supported on ${platform} (only linux and darwin)`);
}
