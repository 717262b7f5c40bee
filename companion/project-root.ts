/** Where the restory package lives, whether running from source (vitest) or from dist/. */
import { existsSync, readFileSync } from 'node:fs';
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

/** The compiled native host entry point Chromium runs (built by `npm run build`). */
export function nativeHostScript(): string {
  return join(projectRoot(), 'dist', 'companion', 'native-host', 'main.js');
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
