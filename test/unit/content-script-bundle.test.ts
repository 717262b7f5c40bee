/**
 * The content script runs in every frame of every page: each byte of it is parsed, and each of its
 * top-level statements run, on every page load (README → capture cost). A value imported from a
 * shared module that also builds zod schemas pulls all of zod into it (214 KB against 36 KB measured,
 * since zod's schema construction cannot be tree-shaken away). This guards the built bundle.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureExtensionBuilt } from '../../companion/browser/extension-build.js';
import { projectRoot } from '../../companion/project-root.js';

describe('content script bundle', () => {
  it('has no zod in it and stays small', async () => {
    const dir = await ensureExtensionBuilt(projectRoot());
    const file = join(dir, 'content', 'main.iife.js');
    const source = readFileSync(file, 'utf8');
    expect(source).not.toMatch(/ZodError|\$ZodType|zod\/v4/);
    expect(statSync(file).size).toBeLessThan(64 * 1024);
  }, 180_000);
});
