/**
 * `restory --help`, `--version` and usage errors must be instant: they load no command module,
 * so neither Playwright (~1.5 s of CPU to import) nor zod nor sql.js, and not even Node's ES module
 * loader for restory's own files (bin/restory.js and dist/cli/quick-answers.cjs are CommonJS).
 * Checked by tracing what the real CLI resolves, not by timing (wall time on these shared cores
 * scatters too much).
 *
 * The CLI runs bundled (dist/cli/, companion/cli/bundle.config.ts): a command is the chunk
 * dist/cli/companion/cli/commands/<name>.js and zod the chunk dist/cli/vendor/zod.js, so the
 * patterns below name both layouts, and a command that does load them shows the patterns see them.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, startForeground, stopForeground } from '../helpers/restory-cli.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const TRACE = fileURLToPath(new URL('../helpers/trace-imports.mjs', import.meta.url));
const COMMAND = /\/cli\/commands\//;
const ZOD = /\/zod\/|\/cli\/vendor\/zod\.js$/;
const HEAVY = /playwright-core|\/sql\.js\//;
/** The session state's schemas and the full protocol that needs them (shared/socket-protocol.ts says why). */
const STATE_SCHEMAS = /\/shared\/(state|capture-events|indexeddb|protocol)\.js$/;

function importsOf(args: string[]): { code: number | null; imports: string[]; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, ...args], { encoding: 'utf8' });
  const imports = r.stderr.split('\n').filter((l) => l.startsWith('import ')).map((l) => l.slice('import '.length));
  return { code: r.status, imports, stdout: r.stdout };
}

afterAll(removeTempDirs);

describe('restory start-up', () => {
  it.each([
    [['--help'], 0, /^usage: restory <command>/],
    [['--version'], 0, /^\d+\.\d+\.\d+\n$/],
    [['help', 'export'], 0, /^usage: restory export/],
    [['start', '--help'], 0, /^usage: restory start/],
    [['frobnicate'], 2, /^$/],
  ] as const)('%j(answered by the CommonJS quick answers: no ES module of restory, no command, Playwright, zod or sql.js)', (args, exit, stdout) => {
    const r = importsOf([...args]);
    expect(r.code).toBe(exit);
    expect(r.stdout).toMatch(stdout);
    // bin/restory.js is CommonJS and requires dist/cli/quick-answers.cjs, which the ES module trace
    // does not see: what it must not see is any module of restory's own, let alone a command.
    expect(r.imports.filter((u) => /\/dist\//.test(u) || COMMAND.test(u) || ZOD.test(u) || HEAVY.test(u))).toEqual([]);
  });

  it('status(runs the bundle: its command chunk, zod and sql.js load, Playwright does not)', () => {
    const { code, imports } = importsOf(['status', '--data-dir', newDataDirPath()]);
    expect(code).toBe(0);
    expect(imports.filter((u) => /\/dist\/companion\//.test(u))).toEqual([]);
    expect(imports.some((u) => u.endsWith('/dist/cli/companion/cli/commands/status.js'))).toBe(true);
    expect(imports.some((u) => ZOD.test(u))).toBe(true);
    expect(imports.some((u) => /\/sql\.js\//.test(u))).toBe(true);
    expect(imports.filter((u) => /playwright-core/.test(u))).toEqual([]);
  });

  it('list beside a running companion asks it with zod and the summary schema alone: no state schema, sql.js or Playwright', async () => {
    const dataDir = newDataDirPath();
    const companion = await startForeground(['start', '--data-dir', dataDir]);
    try {
      const { code, imports, stdout } = importsOf(['list', '--json', '--data-dir', dataDir]);
      expect(code).toBe(0);
      expect((JSON.parse(stdout) as { id: string; state: string }[]).map((s) => [s.id, s.state])).toEqual([[companion.sessionId, 'active']]);
      expect(imports.some((u) => u.endsWith('/dist/cli/companion/cli/backend/companion-backend.js'))).toBe(true);
      expect(imports.some((u) => ZOD.test(u))).toBe(true);
      expect(imports.filter((u) => STATE_SCHEMAS.test(u) || HEAVY.test(u))).toEqual([]);
    } finally {
      await stopForeground(companion);
    }
  });
});
