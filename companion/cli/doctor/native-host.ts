/**
 * The native host: the script the browser starts, and its registrations for the user's own
 * browsers (a manifest naming a launcher, which runs node on the host script). Registrations are
 * optional — only needed to track a browser the user starts — so a broken one is a warning.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EXTENSION_ORIGIN, NATIVE_HOST_NAME } from '../../../shared/constants.js';
import { HOST_BROWSERS, hostManifestDirs, type HostBrowser } from '../../native-host/manifest.js';
import { nativeHostScript, projectRoot } from '../../project-root.js';
import { errorMessage, fail, ok, warn, type CheckResult } from './result.js';
import { shellArg } from './shell.js';

export function checkHostScript(): CheckResult {
  const script = nativeHostScript();
  if (!existsSync(script)) return fail('native host', `${script} is missing`, `cd ${shellArg(projectRoot())} && npm run build`);
  return ok('native host', script);
}

/** The user-level registrations for the user's own browsers, one line each; none is fine (it is optional). */
export function checkHostManifests(dataDir: string, env: NodeJS.ProcessEnv): CheckResult[] {
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    return [ok('host manifests', `not checked on ${process.platform}`)];
  }
  const home = env.HOME || homedir();
  const results: CheckResult[] = [];
  for (const browser of HOST_BROWSERS) {
    for (const dir of hostManifestDirs(browser, process.platform, home, env.XDG_CONFIG_HOME || undefined)) {
      if (existsSync(join(dir, `${NATIVE_HOST_NAME}.json`))) results.push(checkRegistration(browser, dir, dataDir));
    }
  }
  if (results.length === 0) {
    results.push(
      ok('host manifests', 'note: not registered for your own browsers (only needed to track a browser you start yourself: restory install-host)'),
    );
  }
  return results;
}

/** One registration: the manifest, its launcher, and the node and host script the launcher runs. */
function checkRegistration(browser: HostBrowser, dir: string, dataDir: string): CheckResult {
  const name = `host (${browser})`;
  const manifestFile = join(dir, `${NATIVE_HOST_NAME}.json`);
  const fix = `restory install-host --browser ${browser} --data-dir ${shellArg(dataDir)}`;
  let manifest: { name?: unknown; path?: unknown; allowed_origins?: unknown };
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as typeof manifest;
  } catch (e) {
    return warn(name, `${manifestFile} is unreadable: ${errorMessage(e)}`, fix);
  }
  const problems: string[] = [];
  if (manifest.name !== NATIVE_HOST_NAME) problems.push(`its name is ${JSON.stringify(manifest.name)}, not ${NATIVE_HOST_NAME}`);
  if (!Array.isArray(manifest.allowed_origins) || !manifest.allowed_origins.includes(EXTENSION_ORIGIN)) {
    problems.push(`allowed_origins lacks ${EXTENSION_ORIGIN}`);
  }
  const launcherPath = typeof manifest.path === 'string' ? manifest.path : null;
  let launcher: Launcher | null = null;
  if (!launcherPath) problems.push('it names no launcher ("path")');
  else launcher = readLauncher(launcherPath, problems);
  // (No launcher always comes with a problem; the test is for the type.)
  if (problems.length > 0 || !launcher) return warn(name, `${manifestFile}: ${problems.join('; ')}`, fix);
  const target = launcher.dataDir === undefined ? 'the default data dir' : launcher.dataDir === dataDir ? 'this data dir' : `data dir ${launcher.dataDir}`;
  return ok(name, `installed in ${dir}; runs ${launcher.script} with ${launcher.node}, streaming to ${target}`);
}

interface Launcher {
  node: string;
  script: string;
  dataDir?: string;
}

/** The launcher at `path`, or null with what is wrong with it added to `problems`. */
function readLauncher(path: string, problems: string[]): Launcher | null {
  if (!isExecutable(path)) {
    problems.push(`its launcher ${path} is missing or not executable`);
    return null;
  }
  const launcher = parseLauncher(readFileSync(path, 'utf8'));
  if (!launcher) {
    problems.push(`its launcher ${path} was not written by restory install-host`);
    return null;
  }
  if (!isExecutable(launcher.node)) problems.push(`the launcher runs node at ${launcher.node}, which does not exist`);
  if (!existsSync(launcher.script)) problems.push(`the launcher runs ${launcher.script}, which does not exist`);
  return launcher;
}

/** A '…' word of shellQuote (native-host/manifest.ts), each ' in it written as '\''. */
const QUOTED = `'(?:[^']|'\\\\'')*'`;

function unquote(word: string): string {
  return word.slice(1, -1).replaceAll(`'\\''`, `'`);
}

/** Read back what launcherScript (native-host/manifest.ts) wrote; null for a launcher it did not write. */
function parseLauncher(text: string): Launcher | null {
  const exec = new RegExp(`^exec (${QUOTED}) (${QUOTED})`, 'm').exec(text);
  if (!exec) return null;
  const dataDir = new RegExp(`^export RESTORY_DATA_DIR=(${QUOTED})$`, 'm').exec(text);
  return { node: unquote(exec[1]), script: unquote(exec[2]), ...(dataDir ? { dataDir: unquote(dataDir[1]) } : {}) };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
