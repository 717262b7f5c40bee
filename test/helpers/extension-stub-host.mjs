// Stub native messaging host for the extension tests: a stand-in for host + companion.
// Speaks Chrome's framing (4-byte native-endian length + UTF-8 JSON) on stdin/stdout.
// - answers `hello` with `welcome` (ackedSeq = highest seq acknowledged by any earlier stub run),
// - acks every `events` frame, unless the file `$RESTORY_STUB_DIR/no-ack` exists,
// - sends `resync` after the welcome if the file `$RESTORY_STUB_DIR/resync` exists (consumed),
// - appends every received message as one JSON line to `$RESTORY_STUB_DIR/messages.jsonl`,
//   preceded by a `{"type":"_connected","pid":…,"origin":…}` line, and writes its pid to `pids`.
// Plain .mjs so that Chromium can run it without a TypeScript loader.
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';

const dir = process.env.RESTORY_STUB_DIR;
if (!dir) {
  process.stderr.write('extension-stub-host: RESTORY_STUB_DIR is not set\n');
  process.exit(2);
}
const LE = endianness() === 'LE';
const logFile = join(dir, 'messages.jsonl');
const ackedFile = join(dir, 'acked-seq');

const log = (message) => appendFileSync(logFile, JSON.stringify({ receivedAt: Date.now(), ...message }) + '\n');
const readAcked = () => (existsSync(ackedFile) ? Number(readFileSync(ackedFile, 'utf8')) || 0 : 0);

function send(message) {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const head = Buffer.alloc(4);
  if (LE) head.writeUInt32LE(body.length, 0);
  else head.writeUInt32BE(body.length, 0);
  process.stdout.write(Buffer.concat([head, body]));
}

appendFileSync(join(dir, 'pids'), `${process.pid}\n`);
log({ type: '_connected', pid: process.pid, origin: process.argv[2] ?? null });

function handle(message) {
  log(message);
  if (message.type === 'hello') {
    send({ type: 'welcome', v: 1, sessionId: 'stub-session', ackedSeq: readAcked() });
    if (existsSync(join(dir, 'resync'))) {
      rmSync(join(dir, 'resync'), { force: true });
      send({ type: 'resync' });
    }
  } else if (message.type === 'events' && !existsSync(join(dir, 'no-ack'))) {
    const seq = Math.max(...message.batch.map((e) => e.seq));
    if (seq > readAcked()) writeFileSync(ackedFile, String(seq));
    send({ type: 'ack', seq });
  } else if (message.type === 'request') {
    send({ type: 'response', id: message.id, ok: true, result: { stub: true, method: message.method } });
  }
}

// Chunks are kept in a list and joined only once a whole frame is there: joining on every chunk
// (pipes deliver 64 KB or less) is quadratic, and made a 5 MB frame take tens of seconds.
let chunks = [];
let buffered = 0;
process.stdin.on('data', (chunk) => {
  chunks.push(chunk);
  buffered += chunk.length;
  for (;;) {
    if (buffered < 4) return;
    if (chunks[0].length < 4) chunks = [Buffer.concat(chunks)];
    const length = LE ? chunks[0].readUInt32LE(0) : chunks[0].readUInt32BE(0);
    if (buffered < 4 + length) return;
    const buffer = Buffer.concat(chunks);
    const body = buffer.subarray(4, 4 + length);
    const rest = buffer.subarray(4 + length);
    chunks = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
    handle(JSON.parse(body.toString('utf8')));
  }
});
process.stdin.on('end', () => process.exit(0));
