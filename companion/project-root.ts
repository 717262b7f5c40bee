/** Where the restory package lives, whether running from source (vitest) or from dist/. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** package.json's name: scoped, because `restory` on npm is someone else's package. */
export const PACKAGE_NAME = '@restory/cli';

let cached: string | null = null;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the restory package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/**
 * The native host entry point Chromium runs (built by `npm run build`): the one-file CommonJS bundle
 * (dist/host/native-host.cjs, ~100 ms of CPU less per start than tsc's ES modules, measured) when it
 * is at least as new as tsc's output, else tsc's output, so a `tsc` alone never runs an older host.
 */
export function nativeHostScript(root = projectRoot()): string {
  const compiled = join(root, 'dist', 'companion', 'native-host', 'main.js');
  const bundled = join(root, 'dist', 'host', 'native-host.cjs');
  const modified = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  return (modified(bundled) ?? -1) >= (modified(compiled) ?? Infinity) ? bundled : compiled;
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
