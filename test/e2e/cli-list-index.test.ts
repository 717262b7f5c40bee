/**
 * `restory list` answers from the session index (store/session-index.ts) only when that is exactly
 * what the store holds: after a writer is SIGKILLed with acknowledged changes only in its journal,
 * and beside a running companion, it must take the full way and show the newest state.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../shared/state.js';
import { dataPaths } from '../../companion/data-dir.js';
import { sessionIndexPath } from '../../companion/store/session-index.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { spawnCompanion } from '../helpers/fault-harness.js';
import { BIN, runCli } from '../helpers/restory-cli.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

const STORE_JS = fileURLToPath(new URL('../../dist/companion/store/sqljs-store.js', import.meta.url));
const TRACE = fileURLToPath(new URL('../helpers/trace-imports.mjs', import.meta.url));

afterAll(removeTempDirs);

/** Two sessions, not active, closed cleanly: the index names this restory.db. */
async function cleanStore(): Promise<string> {
  const dataDir = newDataDirPath();
  const store = await SqlJsStore.open({ dataDir });
  store.createSession({ name: 'kept', id: 'aaaa', state: 'recoverable' });
  store.createSession({ name: 'other', id: 'bbbb', state: 'recoverable' });
  await store.close();
  return dataDir;
}

function indexedStates(dataDir: string): Record<string, string> {
  const index = JSON.parse(readFileSync(sessionIndexPath(dataPaths(dataDir).db), 'utf8')) as { sessions: SessionSummary[] };
  return Object.fromEntries(index.sessions.map((s) => [s.id, s.state]));
}

async function listed(dataDir: string): Promise<Record<string, string>> {
  const r = await runCli(['list', '--json', '--data-dir', dataDir]);
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries((JSON.parse(r.stdout) as SessionSummary[]).map((s) => [s.id, s.state]));
}

/** What `restory list` resolves while it runs (trace-imports.mjs). */
function listImports(dataDir: string): string[] {
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, 'list', '--data-dir', dataDir], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr.split('\n').filter((l) => l.startsWith('import ')).map((l) => l.slice('import '.length));
}

describe('restory list and the session index', () => {
  it('list(after a SIGKILL shows what only the journal holds, not the index)', async () => {
    const dataDir = await cleanStore();
    // A writer that acknowledges two changes (flush), then is killed before any checkpoint.
    const script = `const { SqlJsStore } = await import(${JSON.stringify(STORE_JS)});
const store = await SqlJsStore.open({ dataDir: ${JSON.stringify(dataDir)}, config: { checkpointIntervalMs: 3600000 } });
store.createSession({ name: 'journal only', id: 'cccc', state: 'recoverable' });
store.setState('bbbb', 'closed');
await store.flush();
process.stdout.write('acked\\n');
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('acked') && resolve()));
    child.kill('SIGKILL');
    await exited;

    // The index still describes the store before the writer: using it would hide both changes.
    expect(indexedStates(dataDir)).toEqual({ aaaa: 'recoverable', bbbb: 'recoverable' });
    expect(await listed(dataDir)).toEqual({ aaaa: 'recoverable', bbbb: 'closed', cccc: 'recoverable' });
  });

  it('list(of a store closed cleanly reads the index: neither zod nor sql.js is loaded)', async () => {
    const dataDir = await cleanStore();
    const imports = listImports(dataDir);
    // zod is dist/cli/vendor/zod.js in the bundled CLI (companion/cli/bundle.config.ts).
    expect(imports.filter((u) => /\/zod\/|\/vendor\/zod\.js$|\/sql\.js\/|\/socket\/client\.js$/.test(u))).toEqual([]);
    expect(await listed(dataDir)).toEqual({ aaaa: 'recoverable', bbbb: 'recoverable' });
  });

  it('list(beside a running companion asks it over the socket, and sees what it changed)', async () => {
    const dataDir = await cleanStore();
    const companion = await spawnCompanion(dataDir);
    try {
      const closed = await runCli(['close', 'bbbb', '--data-dir', dataDir]);
      expect(closed.code, closed.stderr).toBe(0);
      expect(listImports(dataDir).some((u) => u.endsWith('/socket/client.js'))).toBe(true);
      expect(await listed(dataDir)).toEqual({ aaaa: 'recoverable', bbbb: 'closed' });
    } finally {
      await companion.kill('SIGTERM');
    }
    // Stopped cleanly: its final checkpoint wrote the index, which now answers alone.
    expect(indexedStates(dataDir)).toEqual({ aaaa: 'recoverable', bbbb: 'closed' });
    expect(listImports(dataDir).some((u) => /\/zod\/|\/vendor\/zod\.js$|\/sql\.js\//.test(u))).toBe(false);
    expect(await listed(dataDir)).toEqual({ aaaa: 'recoverable', bbbb: 'closed' });
  });
});
