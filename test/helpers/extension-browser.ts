/**
 * Launches Chromium with the built extension and the stub native host registered in a fresh
 * profile, and reads what the stub received. For the extension's end-to-end tests.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Worker } from 'playwright-core';
import { EXTENSION_ID, NATIVE_HOST_NAME } from '../../shared/constants.js';
import { ensureExtensionBuilt } from '../../companion/browser/extension-build.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const EXTENSION_DIR = join(root, 'dist/extension');
const STUB_HOST = join(root, 'test/helpers/extension-stub-host.mjs');
const CHROMIUM = process.env.RESTORY_CHROMIUM ?? '/usr/lib/chromium/chromium';

export interface ExtensionBrowser {
  context: BrowserContext;
  worker: Worker;
  /** The stub host's control/log directory. */
  stubDir: string;
  log: StubLog;
  close(): Promise<void>;
}

export async function launchWithExtension(): Promise<ExtensionBrowser> {
  await ensureExtensionBuilt(root); // the companion's: rebuilds a stale build, one build across test workers
  const base = mkdtempSync(join(tmpdir(), 'restory-ext-'));
  const userDataDir = join(base, 'profile');
  const stubDir = join(base, 'stub');
  mkdirSync(join(userDataDir, 'NativeMessagingHosts'), { recursive: true });
  mkdirSync(stubDir);
  // PATH may be trimmed in the host's environment: a launcher with absolute paths.
  const launcher = join(base, 'stub-host.sh');
  writeFileSync(launcher, `#!/bin/sh\nexec '${process.execPath}' '${STUB_HOST}' "$@"\n`);
  chmodSync(launcher, 0o755);
  writeFileSync(
    join(userDataDir, 'NativeMessagingHosts', `${NATIVE_HOST_NAME}.json`),
    JSON.stringify({
      name: NATIVE_HOST_NAME,
      description: 'restory test stub host',
      path: launcher,
      type: 'stdio',
      allowed_origins: [`chrome-extension://${EXTENSION_ID}/`],
    }),
  );
  // Chromium 156 blocks third-party cookies, and with them cross-site iframes' storage, by default;
  // the tests exercise partitioned iframe storage, so allow it (0 = allow all cookies).
  mkdirSync(join(userDataDir, 'Default'), { recursive: true });
  writeFileSync(join(userDataDir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0 } }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    env: { ...process.env, RESTORY_STUB_DIR: stubDir },
  });
  const worker =
    context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${EXTENSION_ID}/`)) ??
    (await context.waitForEvent('serviceworker', { timeout: 10_000 }));
  const log = new StubLog(join(stubDir, 'messages.jsonl'));
  return {
    context,
    worker,
    stubDir,
    log,
    async close() {
      await context.close().catch(() => {});
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** A line of the stub's log: a message from the extension plus when the stub got it. */
export type Logged = { receivedAt: number; type: string; [key: string]: unknown };

/** Reads the stub's JSON-lines log incrementally (it grows to tens of MB with the 5 MB origin). */
export class StubLog {
  readonly messages: Logged[] = [];
  private offset = 0;
  private partial = '';

  constructor(private readonly file: string) {}

  refresh(): Logged[] {
    if (!existsSync(this.file)) return this.messages;
    const size = statSync(this.file).size;
    if (size > this.offset) {
      const fd = openSync(this.file, 'r');
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      closeSync(fd);
      this.offset = size;
      const lines = (this.partial + buffer.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line) this.messages.push(JSON.parse(line) as Logged);
    }
    return this.messages;
  }

  /** Every sequenced event received, in arrival order, with its receive time and connection number. */
  events(): { seq: number; at: number; receivedAt: number; connection: number; event: Record<string, any> }[] {
    // `any`: the tests probe event fields by kind; the shapes are checked by the assertions themselves.
    const out: { seq: number; at: number; receivedAt: number; connection: number; event: Record<string, any> }[] = [];
    let connection = 0;
    for (const m of this.refresh()) {
      if (m.type === '_connected') connection++;
      if (m.type !== 'events') continue;
      for (const e of m.batch as { seq: number; at: number; event: Record<string, unknown> }[]) {
        out.push({ ...e, receivedAt: m.receivedAt, connection });
      }
    }
    return out;
  }

  /** Polls until `find` returns something truthy (checking every 25 ms), or fails after `timeoutMs`. */
  async waitFor<T>(what: string, find: () => T | undefined | null | false, timeoutMs = 5_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

export function readPids(stubDir: string): number[] {
  const file = join(stubDir, 'pids');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
}
