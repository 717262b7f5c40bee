import { homedir } from 'node:os';
import { type HostBrowser, hostManifestDirs, removeHostManifestFrom, writeHostManifestTo } from '../../native-host/manifest.js';
import { ensureExtensionBuilt } from '../../browser/extension-build.js';
import { nativeHostScript, projectRoot } from '../../project-root.js';
import { dataDirOf, parseCommand } from '../args.js';
import { SPECS } from '../command-specs.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommand(SPECS['install-host'], argv);
  const browser = (values.browser ?? 'chromium') as HostBrowser;
  const dirs = hostManifestDirs(browser, process.platform, homedir(), process.env.XDG_CONFIG_HOME || undefined);
  if (values.uninstall) {
    for (const dir of dirs) await removeHostManifestFrom(dir);
    process.stdout.write(`removed the restory native host from: ${dirs.join(', ')}\n`);
    return 0;
  }
  for (const dir of dirs) {
    const { manifestPath } = await writeHostManifestTo(dir, { hostScript: nativeHostScript(), env: { RESTORY_DATA_DIR: dataDirOf(values) } });
    process.stdout.write(`wrote ${manifestPath}\n`);
  }
  const extensionDir = await ensureExtensionBuilt(projectRoot());
  process.stdout.write(
    `\nNow load the extension: open ${browser === 'edge' ? 'edge' : browser === 'brave' ? 'brave' : 'chrome'}://extensions, turn on Developer mode, click "Load unpacked" and choose:\n  ${extensionDir}\n` +
      'Then run `restory start` (or keep a companion running) and the browser is tracked as a session.\n' +
      'Note: branded Google Chrome 137+ ignores --load-extension but still allows "Load unpacked".\n',
  );
  return 0;
}
