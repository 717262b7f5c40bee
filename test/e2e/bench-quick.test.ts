/**
 * The benchmark harness must not rot: `node dist/bench/run.js --quick` (tiny counts, real Chromium,
 * real companion) completes and writes well-formed results. Nothing here checks that a number meets
 * its aim — that is what `npm run bench` and the README's Performance section are for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const RUN = fileURLToPath(new URL('../../dist/bench/run.js', import.meta.url));
const SECTIONS = ['captureOverhead', 'durableLatency', 'crashLoss', 'restoreTime', 'resumeCli', 'storeScaling', 'checkpointLatency', 'idleCpu', 'captureCost', 'cliStartup', 'indexedDB'];

/** Every number anywhere in the value, with its path. */
function numbers(value: unknown, path = '$'): [string, number][] {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => numbers(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => numbers(v, `${path}.${k}`));
  return [];
}

describe('bench --quick', () => {
  const out = mkdtempSync(join(tmpdir(), 'restory-bench-quick-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('completes and writes well-formed results (every section, finite numbers, positive ratios)', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [RUN, '--quick', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('| benchmark | measurement | result | aim |');

    const files = readdirSync(out);
    expect(files).toContain('latest.json');
    expect(files.filter((f) => /^\d{4}-\d\d-\d\dT.*\.json$/.test(f))).toHaveLength(1);
    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as {
      format: string;
      quick: boolean;
      machine: Record<string, unknown>;
      sections: Record<string, { data: unknown; error?: string }>;
      rows: { section: string; metric: string; value: string }[];
      aims: { met: boolean }[];
      table: string;
    };
    expect(results).toMatchObject({ format: 'restory-bench', quick: true });
    expect(Object.keys(results.machine)).toEqual(expect.arrayContaining(['cpu', 'cores', 'node', 'chromium']));
    expect(Object.keys(results.sections).sort()).toEqual([...SECTIONS].sort());
    for (const name of SECTIONS) {
      const section = results.sections[name];
      expect(section.error, `${name} failed`).toBeUndefined();
      expect(section.data, name).toBeTruthy();
      const nums = numbers(section.data, name);
      expect(nums.length, `${name} has numbers`).toBeGreaterThan(0);
      for (const [path, n] of nums) {
        expect(Number.isFinite(n), `${path} = ${n}`).toBe(true);
        if (/ratio|over/i.test(path)) expect(n, path).toBeGreaterThan(0);
      }
    }
    expect(results.rows.length).toBeGreaterThanOrEqual(SECTIONS.length);
    for (const row of results.rows) expect(row.value, `${row.section}: ${row.metric}`).not.toBe('');
    expect(results.aims.every((a) => typeof a.met === 'boolean')).toBe(true);
    expect(results.table).toContain('Capture overhead');
  }, 600_000); // nine benchmarks, most launching Chromium; a "does it complete" check, not a timing
});
