import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type HostBrowser, hostManifestDirs, removeHostManifestFrom, writeHostManifestTo } from '../../native-host/manifest.js';
import { ensureExtensionBuilt } from '../../browser/extension-build.js';
import { nativeHostScript, projectRoot } from '../../project-root.js';
import { dataDirOf, parseCommand } from '../args.js';
import { SPECS } from '../command-specs.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPECS['install-host'], argv);
  const browser = (values.browser ?? 'chromium') as HostBrowser;
  // A browser started with its own --user-data-dir reads no user-level folder, only its profile's.
  const profile = values['user-data-dir'];
  const dirs = profile
    ? [join(resolve(profile), 'NativeMessagingHosts')]
    : hostManifestDirs(browser, process.platform, homedir(), process.env.XDG_CONFIG_HOME || undefined);
  const dataDir = dataDirOf(values);
  if (values.uninstall) {
    for (const dir of dirs) await removeHostManifestFrom(dir);
    if (values.json) process.stdout.write(JSON.stringify({ browser, removedFrom: dirs }) + '\n');
    else process.stdout.write(`removed the restory native host from: ${dirs.join(', ')}\n`);
    return 0;
  }
  const manifests: string[] = [];
  for (const dir of dirs) {
    const { manifestPath } = await writeHostManifestTo(dir, { hostScript: nativeHostScript(), env: { RESTORY_DATA_DIR: dataDir } });
    manifests.push(manifestPath);
  }
  const extensionDir = await ensureExtensionBuilt(projectRoot());
  if (values.json) {
    process.stdout.write(JSON.stringify({ browser, manifests, extensionDir, dataDir }) + '\n');
    return 0;
  }
  for (const manifestPath of manifests) process.stdout.write(`wrote ${manifestPath}\n`);
  process.stdout.write(`the host delivers to the companion of data dir ${dataDir}\n`);
  if (profile) {
    process.stdout.write(
      `\nStart the browser with the extension and this profile, e.g. with Playwright:\n` +
        `  chromium.launchPersistentContext(${JSON.stringify(resolve(profile))}, {\n` +
        `    ignoreDefaultArgs: ['--disable-extensions'],\n` +
        `    args: ['--disable-extensions-except=${extensionDir}', '--load-extension=${extensionDir}'],\n  })\n` +
        'With a companion running for that data dir (restory start, or restory mcp), the browser is tracked as a session.\n',
    );
    return 0;
  }
  process.stdout.write(
    `\nNow load the extension: open ${browser === 'edge' ? 'edge' : browser === 'brave' ? 'brave' : 'chrome'}://extensions, turn on Developer mode, click "Load unpacked" and choose:\n  ${extensionDir}\n` +
      'Then run `restory start` (or keep a companion running) and the browser is tracked as a session.\n' +
      'Note: branded Google Chrome 137+ ignores --load-extension but still allows "Load unpacked".\n',
  );
  return 0;
}
