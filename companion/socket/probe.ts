import { connect } from 'node:net';
import { dataPaths } from '../data-dir.js';

/** Whether something accepts a connection on the unix socket at `path` (the probe connection is closed at once). */
export function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Whether something accepts connections on the data dir's companion socket. Cheaper than
 * CompanionClient.connect (no protocol schemas to load): `resume` asks first, and starts Chromium at
 * once when nothing answers (session/session-browser-spawn.ts).
 */
export function companionListening(dataDir: string): Promise<boolean> {
  return socketAccepts(dataPaths(dataDir).socket);
}
