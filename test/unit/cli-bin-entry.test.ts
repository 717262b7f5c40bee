/**
 * bin/restory.js runs the bundled CLI (dist/cli/main.js) only when it is at least as new as tsc's
 * output (dist/companion/cli/main.js): after a `tsc` alone the bundle is older and must not run. The
 * same holds for the CommonJS quick answers (dist/cli/quick-answers.cjs: --help, --version…), asked
 * first. Checked on a copy of the bin in a scratch package whose entries say which one ran.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, removeTempDirs } from '../helpers/temp-dirs.js';

const BIN = fileURLToPath(new URL('../../bin/restory.js', import.meta.url));

/** A package with bin/restory.js and whichever of the two entries `entries` names, with those mtimes (s). */
function scratch(entries: { compiled?: number; bundled?: number; quick?: number }): string {
  const root = tempDir('restory-bin-');
  mkdirSync(join(root, 'bin'));
  copyFileSync(BIN, join(root, 'bin', 'restory.js'));
  copyFileSync(join(BIN, '..', 'package.json'), join(root, 'bin', 'package.json'));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  const entry = (rel: string, name: string, mtime: number) => {
    const file = join(root, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `export async function main(argv) { process.stdout.write(${JSON.stringify(name)} + ' ' + argv.join(' ')); return 3; }\n`);
    utimesSync(file, mtime, mtime);
  };
  if (entries.compiled !== undefined) entry('dist/companion/cli/main.js', 'compiled', entries.compiled);
  if (entries.bundled !== undefined) entry('dist/cli/main.js', 'bundled', entries.bundled);
  if (entries.quick !== undefined) {
    const file = join(root, 'dist', 'cli', 'quick-answers.cjs');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, `exports.quickAnswer = (argv) => (argv[0] === '--version' ? (process.stdout.write('quick ' + argv.join(' ')), 4) : null);\n`);
    utimesSync(file, entries.quick, entries.quick);
  }
  return root;
}

function run(root: string, args = ['list', '--json']): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'restory.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

afterAll(removeTempDirs);

describe('bin/restory.js', () => {
  it('entry(runs the bundle when it is as new as the compiled CLI, with the arguments and exit code)', () => {
    expect(run(scratch({ compiled: 1_000_000, bundled: 1_000_000 }))).toEqual({ code: 3, stdout: 'bundled list --json', stderr: '' });
    expect(run(scratch({ compiled: 1_000_000, bundled: 1_000_500 })).stdout).toBe('bundled list --json');
  });

  it('entry(runs the compiled CLI when the bundle is older or missing)', () => {
    expect(run(scratch({ compiled: 1_000_500, bundled: 1_000_000 })).stdout).toBe('compiled list --json');
    expect(run(scratch({ compiled: 1_000_000 })).stdout).toBe('compiled list --json');
  });

  it('quick answers(come from the CommonJS bundle when it is current; a command, or a stale bundle, goes to main)', () => {
    const current = scratch({ compiled: 1_000_000, bundled: 1_000_000, quick: 1_000_000 });
    expect(run(current, ['--version'])).toEqual({ code: 4, stdout: 'quick --version', stderr: '' });
    expect(run(current).stdout).toBe('bundled list --json');
    expect(run(scratch({ compiled: 1_000_500, bundled: 1_000_000, quick: 1_000_000 }), ['--version']).stdout).toBe('compiled --version');
  });

  it('entry(says to build when there is no compiled CLI)', () => {
    const r = run(scratch({ bundled: 1_000_000 }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('restory: not built yet; run: npm run build\n');
  });
});
