/**
 * Playwright's `chromium`, loaded with require(). playwright-core is CommonJS: imported from an ES
 * module, Node first scans its bundles (megabytes) for named exports with cjs-module-lexer, ~0.3 s of
 * CPU on 2 cores (measured: `import { chromium } from 'playwright-core'` 1.26–1.56 s of CPU against
 * 0.97–1.27 s through require, Node 20), paid by every start, resume and `restory mcp`.
 */
import { createRequire } from 'node:module';
import type * as Playwright from 'playwright-core';

export const { chromium } = createRequire(import.meta.url)('playwright-core') as typeof Playwright;
