/**
 * Faults around a running browser, end to end, in own-browser mode: Chromium is launched by the test
 * (launchBrowser with the built extension and native host, env RESTORY_DATA_DIR only, so the host
 * reads the token and socket from the data dir) and a companion process runs separately on that data
 * dir. A page writes localStorage in a loop with a counter the whole time.
 *
 * - SIGKILL the native host: Chromium reports the port closed, the extension reconnects (a new host),
 *   resends what was not acknowledged, and acks continue for the same instance and session.
 * - SIGKILL the companion while the browser keeps writing, start another: the extension reconnects
 *   with backoff and capture continues into the same session.
 * - SIGKILL Chromium: the session becomes recoverable; the same profile relaunched captures into it again.
 *
 * After every fault: every seq the companion acknowledged (its DEBUG=restory:connection log) is in the
 * store, and the stored counter values have no gaps.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type LaunchedBrowser } from '../../companion/browser/launch.js';
import { nativeHostScript } from '../../companion/project-root.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import { localItems } from '../helpers/store-fixtures.js';
import { RawConnection, sleep, spawnCompanion, type CompanionChild, startStormSite } from '../helpers/fault-harness.js';
import { eventually } from '../helpers/restory-cli.js';

const root = resolve(import.meta.dirname, '../..');
const ENV = { DEBUG: 'restory:connection', RESTORY_SNAPSHOT_INTERVAL_MS: '1000', RESTORY_CHECKPOINT_INTERVAL_MS: '300' };

interface Ack {
  session: string;
  instance: string;
  seq: number;
}
const acksOf = (c: CompanionChild): Ack[] =>
  [...c.stderr().matchAll(/restory:connection ack (\S+) (\S+) (\d+)$/gm)].map((m) => ({ session: m[1], instance: m[2], seq: Number(m[3]) }));

/** Pids of the native hosts serving `dataDir` (a host's environment names its data dir). */
function hostPids(dataDir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!/native-host(\/main\.js|\.cjs)\0/.test(readFileSync(`/proc/${name}/cmdline`, 'utf8'))) continue;
      if (readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(`RESTORY_DATA_DIR=${dataDir}`)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('faults around a running browser (own-browser mode, real Chromium, host and companion)', () => {
  let site: { origin: string; close(): Promise<void> } | undefined;
  let origin: string;
  let parent: string;
  let dataDir: string;
  let profile: string;
  let companion: CompanionChild;
  let browser: LaunchedBrowser | null = null;
  let sessionId: string;
  let instance: string;

  const launch = async () => {
    browser = await launchBrowser({
      userDataDir: profile,
      extensionDir: join(root, 'dist/extension'),
      hostScript: nativeHostScript(),
      env: { RESTORY_DATA_DIR: dataDir },
    });
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(`${origin}/storm.html`);
  };

  /** Newest ack of this companion for our stream, once it is beyond `after`. */
  const ackBeyond = (c: CompanionChild, after: number, what: string) =>
    eventually(() => acksOf(c).filter((a) => a.instance === instance && a.seq > after).at(-1), 20_000, what);

  /** Every acknowledged seq is in the store, and the counter n1..nTop has no gaps. Returns top. */
  const checkStore = async (ackedSeq: number, what: string): Promise<number> => {
    const store = await SqlJsStore.open({ dataDir, readOnly: true });
    try {
      const cursor = store.captureCursor(sessionId);
      expect(cursor.instanceId, what).toBe(instance);
      expect(cursor.lastSeq, `${what}: acknowledged seq ${ackedSeq} not in the store`).toBeGreaterThanOrEqual(ackedSeq);
      const items = localItems(store.currentState(sessionId), origin);
      const top = Math.max(0, ...Object.keys(items).filter((k) => /^n\d+$/.test(k)).map((k) => Number(k.slice(1))));
      const gaps = Array.from({ length: top }, (_, i) => i + 1).filter((n) => items[`n${n}`] !== String(n));
      expect(gaps, `${what}: counter values missing`).toEqual([]);
      expect(top, what).toBeGreaterThan(0);
      return top;
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    site = await startStormSite(20);
    origin = site.origin;
    parent = mkdtempSync(join(tmpdir(), 'restory-browser-faults-'));
    dataDir = join(parent, 'data');
    profile = join(parent, 'profile');
    companion = await spawnCompanion(dataDir, ENV);
    await launch();
    const first = await eventually(() => acksOf(companion)[0], 20_000, 'the first ack');
    sessionId = first.session;
    instance = first.instance;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await companion?.kill('SIGKILL');
    await site?.close();
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('SIGKILL of the native host: a new host, the unacknowledged events resent, acks continue', async () => {
    const pids = await eventually(() => (hostPids(dataDir).length === 1 ? hostPids(dataDir) : null), 10_000, 'one native host');
    const before = acksOf(companion).at(-1)!.seq;
    process.kill(pids[0], 'SIGKILL');
    const after = await ackBeyond(companion, before + 20, 'acks after the host was killed');
    expect(after.session).toBe(sessionId);
    const fresh = hostPids(dataDir);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).not.toBe(pids[0]);
    await checkStore(after.seq, 'after the host was killed');
  });

  it('SIGKILL of the companion while the browser writes, then a new companion: capture resumes, nothing acknowledged lost', async () => {
    await sleep(300);
    expect(await companion.kill('SIGKILL')).toBe('SIGKILL');
    const acked = Math.max(...acksOf(companion).filter((a) => a.instance === instance).map((a) => a.seq));
    const topAtKill = await checkStore(acked, 'after the companion was killed');
    await sleep(500); // the browser keeps writing into the outbox meanwhile

    companion = await spawnCompanion(dataDir, ENV);
    const resumed = await ackBeyond(companion, acked, 'acks from the new companion');
    expect(resumed.session).toBe(sessionId);
    // What was written while no companion ran reaches the new one too.
    await eventually(async () => (await checkStore(0, 'catching up')) > topAtKill + 25, 15_000, 'the counter to grow past the outage');
    const client = await RawConnection.authed(dataDir, 'client');
    client.send({ type: 'request', id: 'l', method: 'list', params: {} });
    const listed = (await client.next((m) => m.id === 'l', 5000)) as { result: { sessions: { id: string; state: string }[] } };
    client.destroy();
    expect(listed.result.sessions).toEqual([expect.objectContaining({ id: sessionId, state: 'active' })]);
  });

  it('SIGKILL of Chromium: the session is recoverable at once; the same profile relaunched captures into it again', async () => {
    const pid = browser!.browserPid!;
    expect(pid).toBeGreaterThan(0);
    await sleep(300);
    process.kill(pid, 'SIGKILL');
    await browser!.close(); // Playwright's side; the profile is ours and stays
    browser = null;
    const client = await RawConnection.authed(dataDir, 'client');
    const state = async () => {
      client.send({ type: 'request', id: `s${Date.now()}`, method: 'list', params: {} });
      const r = (await client.next((m) => m.type === 'response', 5000)) as { result: { sessions: { id: string; state: string }[] } };
      return r.result.sessions.find((s) => s.id === sessionId)?.state;
    };
    await eventually(async () => (await state()) === 'recoverable', 10_000, 'the session to become recoverable');
    const acked = Math.max(...acksOf(companion).filter((a) => a.instance === instance).map((a) => a.seq));
    await checkStore(acked, 'after Chromium was killed');

    await launch();
    const again = await ackBeyond(companion, acked, 'acks from the relaunched browser');
    expect(again.session).toBe(sessionId);
    expect(await state()).toBe('active');
    client.destroy();
    await checkStore(again.seq, 'after the relaunch');
  });

  it('an orderly companion shutdown leaves the own-browser session recoverable, not active', async () => {
    const acked = Math.max(...acksOf(companion).filter((a) => a.instance === instance).map((a) => a.seq));
    expect(await companion.kill('SIGTERM')).toBe(0);
    const store = await SqlJsStore.open({ dataDir, readOnly: true });
    try {
      expect(store.getSession(sessionId)?.state).toBe('recoverable');
      expect(store.captureCursor(sessionId).lastSeq).toBeGreaterThanOrEqual(acked);
    } finally {
      await store.close();
    }
  });
});
