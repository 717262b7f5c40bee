/**
 * Chromium runs the native host through the bundle (dist/host/native-host.cjs) only when it is at
 * least as new as tsc's output (dist/companion/native-host/main.js): after a `tsc` alone the bundle
 * is older and must not run. The real bundle is what the e2e tests of the host run after a build.
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeHostScript } from '../../companion/project-root.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dirs.js';

function scratch(entries: { compiled?: number; bundled?: number }): string {
  const root = tempDir('restory-host-');
  const entry = (rel: string, mtime: number) => {
    const file = join(root, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '');
    utimesSync(file, mtime, mtime);
  };
  if (entries.compiled !== undefined) entry('dist/companion/native-host/main.js', entries.compiled);
  if (entries.bundled !== undefined) entry('dist/host/native-host.cjs', entries.bundled);
  return root;
}

afterAll(removeTempDirs);

describe('nativeHostScript', () => {
  it('is the bundle when it is as new as the compiled host', () => {
    for (const bundled of [1_000_000, 1_000_500]) {
      const root = scratch({ compiled: 1_000_000, bundled });
      expect(nativeHostScript(root)).toBe(join(root, 'dist/host/native-host.cjs'));
    }
  });

  it('is the compiled host when the bundle is older or missing', () => {
    for (const root of [scratch({ compiled: 1_000_500, bundled: 1_000_000 }), scratch({ compiled: 1_000_000 })]) {
      expect(nativeHostScript(root)).toBe(join(root, 'dist/companion/native-host/main.js'));
    }
  });

  it('after a build, the bundle', () => {
    expect(nativeHostScript()).toMatch(/dist\/host\/native-host\.cjs$/);
  });
});
