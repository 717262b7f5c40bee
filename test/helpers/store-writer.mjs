// Crash-test child: opens the Store, streams storage.change events as fast as it can and prints
// every acknowledged seq (after flush() resolved) on its own line. The parent SIGKILLs it.
// Usage: node store-writer.mjs <store.js> <dataDir> <run> <checkpointIntervalMs> [background]
// With `background`, the store also holds ~3 MB of padding and background checkpoints (journal
// rotation + the checkpoint worker) run back to back, so kills land between a rotation and the
// new restory.db being renamed in, inside the worker's export and write, and around the rename.
import { pathToFileURL } from 'node:url';

const [storeJs, dataDir, run, interval, mode] = process.argv.slice(2);
const { SqlJsStore: Store } = await import(pathToFileURL(storeJs).href);
const store = await Store.open({ dataDir, config: { checkpointIntervalMs: Number(interval), journalMaxBytes: 256 * 1024 } });
if (!store.getSession('crash')) store.createSession({ name: 'crash', id: 'crash' });
if (mode === 'background' && !store.getSession('pad')) {
  store.createSession({ name: 'pad', id: 'pad' });
  const set = {};
  for (let i = 0; i < 3; i++) set[`pad${i}`] = String(i).repeat(1024 * 1024);
  store.applyEvents('pad', 'pad', [{ seq: 1, at: Date.now(), event: { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://pad.test', area: 'local', clear: false, remove: [], set } }]);
}
await store.flush();
process.stdout.write('ready\n');
if (mode === 'background') {
  (async () => {
    for (;;) await store.checkpointInBackground();
  })();
}

const instance = `writer-${run}`;
let seq = 0;
// A few concurrent producers, so that flushes share groups the way socket connections would.
async function produce() {
  for (;;) {
    const batch = [];
    const n = 1 + Math.floor(Math.random() * 8);
    for (let i = 0; i < n; i++) {
      seq += 1;
      batch.push({
        seq,
        at: Date.now(),
        event: { kind: 'storage.change', tabId: 1, frameId: 0, origin: 'https://crash.test', area: 'local', clear: false, remove: [], set: { [`r${run}-${seq}`]: 'v'.repeat(64) } },
      });
    }
    const last = seq;
    store.applyEvents('crash', instance, batch);
    if (Math.random() < 0.02) store.saveSnapshot('crash', 'interval');
    await store.flush();
    process.stdout.write(`${last}\n`);
  }
}
await Promise.all([produce(), produce(), produce()]);
