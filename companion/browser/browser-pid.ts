/** Which process is a launched Chromium's browser process (LaunchedBrowser.browserPid). */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Pid of Chromium's browser process. Playwright does not expose it for persistent contexts
 * (`context.browser()` is null there), so scan /proc for the process whose command line carries this
 * --user-data-dir and no --type= (renderers, GPU and utility processes all have a --type). Linux only;
 * undefined elsewhere or when not found. The companion polls it to notice a dead browser.
 */
export async function findBrowserPid(userDataDir: string, procRoot = '/proc'): Promise<number | undefined> {
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return undefined;
  }
  const wanted = `--user-data-dir=${userDataDir}`;
  const matches: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(join(procRoot, name, 'cmdline'), 'utf8').catch(() => '');
    if (!cmdline) continue;
    const argv = cmdline.split('\0');
    if (argv.includes(wanted) && !argv.some((a) => a.startsWith('--type='))) matches.push(Number(name));
  }
  // A crashpad handler may also carry the profile path in some builds; the lowest pid is the browser.
  return matches.length ? Math.min(...matches) : undefined;
}
