import { CompanionClient } from '../../socket/client.js';
import { SqlJsStore } from '../../store/sqljs-store.js';
import { dataDirOf, parse } from '../args.js';

export const usage = 'status [--json]   whether a companion is running for the data dir, and its sessions';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } }, 0);
  const dataDir = dataDirOf(values);
  const client = await CompanionClient.connect(dataDir);
  let status: { running: boolean; dataDir: string; pid?: number; version?: string; activeSessions?: string[]; sessions: Record<string, number> };
  if (client) {
    try {
      const s = await client.request('status', {});
      const { sessions } = await client.request('list', {});
      status = { running: true, ...s, sessions: countByState(sessions.map((x) => x.state)) };
    } finally {
      client.close();
    }
  } else {
    const store = await SqlJsStore.open({ dataDir, readOnly: true });
    try {
      status = { running: false, dataDir, sessions: countByState(store.listSessions().map((s) => s.state)) };
    } finally {
      await store.close();
    }
  }
  if (values.json) process.stdout.write(JSON.stringify(status, null, 2) + '\n');
  else {
    process.stdout.write(status.running ? `companion running (pid ${status.pid}) for ${dataDir}\n` : `no companion running for ${dataDir}\n`);
    const counts = Object.entries(status.sessions).map(([k, v]) => `${v} ${k}`).join(', ');
    process.stdout.write(`sessions: ${counts || 'none'}\n`);
  }
  return 0;
}

function countByState(states: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of states) out[s] = (out[s] ?? 0) + 1;
  return out;
}
