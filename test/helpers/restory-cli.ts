/**
 * Run the real `restory` CLI as child processes, the way a user does: a foreground companion
 * (`start` / `resume`) whose stdout announces the session and CDP endpoint, and one-shot commands.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RestoryExport } from '../../shared/state.js';

export const BIN = fileURLToPath(new URL('../../bin/restory.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`restory ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': after 'exit' the pipes may still hold output (an export is megabytes).
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `restory export ID --data-dir DIR --format FORMAT`, parsed (restory's format unless told). */
export async function exportSession<T = RestoryExport>(sessionId: string, dataDir: string, env: NodeJS.ProcessEnv = {}, format: 'restory' | 'playwright' = 'restory'): Promise<T> {
  const r = await runCli(['export', sessionId, '--data-dir', dataDir, '--format', format], env);
  if (r.code !== 0) throw new Error(`restory export ${sessionId} exited with ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface ForegroundCompanion {
  child: ChildProcess;
  sessionId: string;
  cdp: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** `restory start|resume … --cdp-port 0`, resolved once it printed its session id and CDP endpoint. */
export function startForeground(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<ForegroundCompanion> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, ...(args.includes('--cdp-port') ? [] : ['--cdp-port', '0'])], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | string>((r) => child.on('exit', (code, signal) => r(code ?? signal ?? -1)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`restory ${args.join(' ')} did not announce a session in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    const check = () => {
      const session = /^session (\S+)$/m.exec(stdout);
      const cdp = /^cdp (\S+)$/m.exec(stdout);
      if (session && cdp) {
        clearTimeout(timer);
        resolve({ child, sessionId: session[1], cdp: cdp[1], stdout: () => stdout, stderr: () => stderr, exited });
      }
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`restory ${args.join(' ')} exited (${code}) before announcing a session\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

/** Poll `fn` until it returns a truthy value or time runs out (then throw with the last error). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGINT a foreground companion (if it still runs) and wait for it; resolves with its exit code. */
export async function stopForeground(c: ForegroundCompanion | undefined | null): Promise<number | string | undefined> {
  if (!c) return undefined;
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGINT');
  return c.exited;
}

/**
 * Browsers outlive their companion (companion/session/browser-records.ts): SIGKILL every browser a
 * companion left running in `dataDir`, with its renderers and native host (its process group).
 */
export function killBrowsersOf(dataDir: string): void {
  const dir = join(dataDir, 'browsers');
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : [];
  for (const name of names) {
    try {
      const { pid } = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { pid: number };
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already, or a record being rewritten
    }
  }
}

/** A machine crash: SIGKILL the companion and the browsers it runs. Resolves with how it exited. */
export async function crashForeground(c: ForegroundCompanion, dataDir: string): Promise<number | string> {
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  const exited = await c.exited;
  killBrowsersOf(dataDir);
  return exited;
}
