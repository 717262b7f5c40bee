/**
 * Did Chromium exit because the user closed it, or did it die? Chromium marks the profile's
 * `profile.exit_type` as "Crashed" while running and rewrites it to "Normal" on an orderly
 * shutdown (the same flag behind its "Restore pages?" prompt), so once the process is gone the
 * Preferences file tells the two apart.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Playwright reports the context closed as soon as its pipe drops, which on an orderly shutdown is
 * before Chromium has written its final Preferences: wait for the process itself to be gone
 * (or a zombie) first.
 */
export async function waitForProcessExit(pid: number | undefined, timeoutMs = 10_000): Promise<void> {
  if (!pid) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
}

/** Running: not gone, and not exited and waiting to be reaped (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name, is the state; Z = exited, not yet reaped.
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

export async function exitedCleanly(userDataDir: string, browserPid?: number): Promise<boolean> {
  await waitForProcessExit(browserPid);
  try {
    const prefs = JSON.parse(await readFile(join(userDataDir, 'Default', 'Preferences'), 'utf8')) as {
      profile?: { exit_type?: string };
    };
    return prefs.profile?.exit_type === 'Normal';
  } catch {
    return false;
  }
}
