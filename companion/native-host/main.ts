/**
 * Entry point Chromium spawns for `runtime.connectNative` (through the launcher script the host
 * manifest points at). Chromium passes the caller's origin as the first argument.
 */
import { ENV } from '../../shared/constants.js';
import { dataPaths, resolveDataDir } from '../data-dir.js';
import { readToken } from '../socket/token.js';
import { runRelay } from './relay.js';

const dataDir = resolveDataDir({ env: process.env });
const paths = dataPaths(dataDir);
// No top-level await: this file is also bundled as CommonJS (dist/host/native-host.cjs).
void runRelay({
  callerOrigin: process.argv[2],
  socketPath: process.env[ENV.socket] || paths.socket,
  token: process.env[ENV.token] || readToken(paths.token),
  sessionId: process.env[ENV.sessionId] || undefined,
  companionDueBy: Number(process.env[ENV.companionDueBy]) || undefined,
  stdin: process.stdin,
  stdout: process.stdout,
}).then((code) => {
  // Let stdout drain before exiting so the last error frame reaches the extension.
  process.stdout.write('', () => process.exit(code));
});
