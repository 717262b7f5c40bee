/**
 * `restory --help`, `--version` and usage errors must be instant: they load no command module,
 * so neither Playwright (~1.5 s of CPU to import) nor zod nor sql.js. Checked by tracing what the
 * real CLI resolves, not by timing (wall time on these shared cores scatters too much).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/restory-cli.js';

const TRACE = fileURLToPath(new URL('../helpers/trace-imports.mjs', import.meta.url));

function importsOf(args: string[]): { code: number | null; imports: string[] } {
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, ...args], { encoding: 'utf8' });
  const imports = r.stderr.split('\n').filter((l) => l.startsWith('import ')).map((l) => l.slice('import '.length));
  return { code: r.status, imports };
}

describe('restory start-up', () => {
  it.each([[['--help']], [['--version']], [['help', 'export']], [['start', '--help']], [['frobnicate']]])(
    '%j(loads no command module, Playwright, zod or sql.js)',
    (args) => {
      const { code, imports } = importsOf(args);
      expect(code).not.toBeNull();
      expect(imports.some((u) => u.endsWith('/cli/main.js'))).toBe(true);
      const heavy = imports.filter((u) => /\/cli\/commands\/|playwright-core|\/zod\/|\/sql\.js\//.test(u));
      expect(heavy).toEqual([]);
    },
  );
});
