/**
 * Did Chromium exit because the user closed it, or did it die? Chromium marks the profile's
 * `profile.exit_type` as "Crashed" while running and rewrites it to "Normal" on an orderly
 * shutdown (the same flag behind its "Restore pages?" prompt), so after the process is gone
 * the Preferences file tells the two apart.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function exitedCleanly(userDataDir: string): Promise<boolean> {
  try {
    const prefs = JSON.parse(await readFile(join(userDataDir, 'Default', 'Preferences'), 'utf8')) as {
      profile?: { exit_type?: string };
    };
    return prefs.profile?.exit_type === 'Normal';
  } catch {
    return false;
  }
}
