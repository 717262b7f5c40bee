/**
 * Encryption at rest (companion/store/crypto.ts): what lands on disk holds no cookie or storage
 * value, the right key reads it back, a wrong or missing key is refused with a clear message and
 * leaves every file as it was, and a plaintext data dir is encrypted when a key is first set.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENC_MAGIC, StoreCipher, keySourceFromEnv, parseKeyText } from '../../companion/store/crypto.js';
import { integrityCheck } from '../../companion/store/database.js';
import { parseJournal } from '../../companion/store/journal-format.js';
import { SqlJsStore } from '../../companion/store/sqljs-store.js';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { localItems, setLocal } from '../helpers/store-fixtures.js';
import { newDataDirPath, removeTempDirs } from '../helpers/temp-dirs.js';

afterEach(() => removeTempDirs());

const NO_TIMER = { checkpointIntervalMs: 3_600_000 };
const HEX_KEY = 'a1'.repeat(32);
const OTHER_HEX_KEY = 'b2'.repeat(32);
const COOKIE_VALUE = 'cookie-value-Zq81XkT';
const STORAGE_VALUE = 'storage-value-Wm27PpR';

function cookieEvent(seq: number): SequencedEvent {
  return {
    seq,
    at: 1_700_000_000_000 + seq,
    event: {
      kind: 'cookie.change',
      removed: false,
      cookie: { name: 'sid', value: COOKIE_VALUE, domain: 'a.test', path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Lax' },
    },
  };
}

/** A store with one session holding both secrets; `fold` decides whether they end in the db or only in the journal. */
async function writeSecrets(dir: string, env: NodeJS.ProcessEnv, fold: boolean): Promise<void> {
  const store = await SqlJsStore.open({ dataDir: dir, env, config: NO_TIMER });
  store.createSession({ name: 's', id: 's' });
  store.applyEvents('s', 'inst', [cookieEvent(1), setLocal(2, { token: STORAGE_VALUE })]);
  store.saveSnapshot('s', 'manual');
  await store.flush();
  if (fold) {
    await store.close();
    return;
  }
  // Crash: no final checkpoint, so the secrets are only in the journal.
  (store as unknown as { closed: boolean }).closed = true;
  (store as unknown as { lock: { release(): void } }).lock.release();
}

function expectNoSecrets(file: string): void {
  const bytes = readFileSync(file);
  expect(bytes.includes(COOKIE_VALUE)).toBe(false);
  expect(bytes.includes(STORAGE_VALUE)).toBe(false);
  // Not hidden by some encoding either: the values are not there in UTF-16 or base64.
  expect(bytes.includes(Buffer.from(STORAGE_VALUE, 'utf16le'))).toBe(false);
  expect(bytes.includes(Buffer.from(STORAGE_VALUE).toString('base64').slice(0, 16))).toBe(false);
}

async function expectSecretsBack(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const store = await SqlJsStore.open({ dataDir: dir, env, readOnly: true });
  const state = store.currentState('s');
  expect(state.cookies.map((c) => c.value)).toEqual([COOKIE_VALUE]);
  expect(localItems(state)).toEqual({ token: STORAGE_VALUE });
  expect(localItems(store.requireSnapshot('s').state)).toEqual({ token: STORAGE_VALUE });
  await store.close();
}

describe('key handling', () => {
  it('parseKeyText: 64 hex digits or base64 of 32 bytes is a raw key, anything else a passphrase', () => {
    const raw = Buffer.alloc(32, 7);
    expect(parseKeyText(raw.toString('hex'), 'RESTORY_KEY')).toMatchObject({ kind: 'raw', secret: raw });
    expect(parseKeyText(raw.toString('base64'), 'RESTORY_KEY')).toMatchObject({ kind: 'raw', secret: raw });
    expect(parseKeyText(raw.toString('base64url') + '\n', 'RESTORY_KEY')).toMatchObject({ kind: 'raw', secret: raw });
    expect(parseKeyText('correct horse battery staple', 'RESTORY_KEY')).toMatchObject({ kind: 'passphrase' });
    expect(() => parseKeyText('short', 'RESTORY_KEY')).toThrow(/RESTORY_KEY is too short/);
  });

  it('RESTORY_KEY_FILE must be 0600: a looser file is refused with the chmod that fixes it', () => {
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'key');
    writeFileSync(file, HEX_KEY + '\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(() => keySourceFromEnv({ RESTORY_KEY_FILE: file })).toThrow(`RESTORY_KEY_FILE ${file} is accessible by other users (mode 0644); restrict it with: chmod 600 ${file}`);
    chmodSync(file, 0o640);
    expect(() => keySourceFromEnv({ RESTORY_KEY_FILE: file })).toThrow(/mode 0640/);
    chmodSync(file, 0o600);
    expect(keySourceFromEnv({ RESTORY_KEY_FILE: file })).toMatchObject({ kind: 'raw', from: 'RESTORY_KEY_FILE', secret: Buffer.from(HEX_KEY, 'hex') });
    chmodSync(file, 0o400);
    expect(keySourceFromEnv({ RESTORY_KEY_FILE: file })).toMatchObject({ kind: 'raw' });
    expect(() => keySourceFromEnv({ RESTORY_KEY_FILE: join(dir, 'missing') })).toThrow(/cannot be read/);
    expect(() => keySourceFromEnv({ RESTORY_KEY_FILE: file, RESTORY_KEY: HEX_KEY })).toThrow(/both RESTORY_KEY and RESTORY_KEY_FILE are set/);
    expect(keySourceFromEnv({})).toBeNull();
    expect(keySourceFromEnv({ RESTORY_KEY: '' })).toBeNull();
  });

  it('a blob is bound to its purpose: a journal record does not open as the database', () => {
    const cipher = new StoreCipher(parseKeyText(HEX_KEY, 'RESTORY_KEY'));
    const blob = cipher.seal(Buffer.from('{"lsn":1}'), 'journal record');
    expect(blob.subarray(0, ENC_MAGIC.length).equals(ENC_MAGIC)).toBe(true);
    expect(cipher.open(blob, 'journal record', 'j').toString()).toBe('{"lsn":1}');
    expect(() => cipher.open(blob, 'restory.db', 'f')).toThrow(/cannot decrypt f: wrong RESTORY_KEY\?/);
  });
});

describe('encrypted store', () => {
  for (const [what, env] of [
    ['a raw key', { RESTORY_KEY: HEX_KEY }],
    ['a passphrase (scrypt)', { RESTORY_KEY: 'correct horse battery staple' }],
  ] as const) {
    it(`with ${what}: restory.db and the journal hold no cookie or storage value, and read back with the key`, async () => {
      const folded = newDataDirPath();
      await writeSecrets(folded, env, true);
      const db = readFileSync(join(folded, 'restory.db'));
      expect(db.subarray(0, ENC_MAGIC.length).equals(ENC_MAGIC)).toBe(true);
      expectNoSecrets(join(folded, 'restory.db'));
      await expectSecretsBack(folded, env);

      const crashed = newDataDirPath();
      await writeSecrets(crashed, env, false);
      const journal = readFileSync(join(crashed, 'journal.log'));
      expect(journal.length).toBeGreaterThan(0);
      expect(journal.subarray(0, 3).toString()).toBe('E1 ');
      expectNoSecrets(join(crashed, 'journal.log'));
      expectNoSecrets(join(crashed, 'restory.db'));
      await expectSecretsBack(crashed, env);
    });
  }

  it('a wrong key is refused naming the file, and nothing is changed', async () => {
    const dir = newDataDirPath();
    await writeSecrets(dir, { RESTORY_KEY: 'correct horse battery staple' }, false);
    const db = readFileSync(join(dir, 'restory.db'));
    const journal = readFileSync(join(dir, 'journal.log'));
    for (const readOnly of [false, true]) {
      await expect(SqlJsStore.open({ dataDir: dir, env: { RESTORY_KEY: 'wrong horse battery staple' }, readOnly })).rejects.toMatchObject({
        code: 'storage_failed',
        message: expect.stringContaining(`cannot decrypt ${join(dir, 'restory.db')}: wrong RESTORY_KEY?`),
      });
    }
    expect(readFileSync(join(dir, 'restory.db')).equals(db)).toBe(true);
    expect(readFileSync(join(dir, 'journal.log')).equals(journal)).toBe(true);
    // The refused open released the lock: the right key opens it at once.
    await expectSecretsBack(dir, { RESTORY_KEY: 'correct horse battery staple' });
  });

  it('an encrypted data dir without a key is refused with what to set', async () => {
    const dir = newDataDirPath();
    await writeSecrets(dir, { RESTORY_KEY: HEX_KEY }, true);
    const db = readFileSync(join(dir, 'restory.db'));
    for (const readOnly of [false, true]) {
      await expect(SqlJsStore.open({ dataDir: dir, env: {}, readOnly })).rejects.toMatchObject({
        code: 'storage_failed',
        message: `${join(dir, 'restory.db')} is encrypted, but no key is set: set RESTORY_KEY or RESTORY_KEY_FILE to the key it was written with. It was left untouched.`,
      });
    }
    expect(readFileSync(join(dir, 'restory.db')).equals(db)).toBe(true);
    await expect(integrityCheck(join(dir, 'restory.db'), null)).rejects.toThrow(/is encrypted, but no key is set/);
    expect(await integrityCheck(join(dir, 'restory.db'), parseKeyText(HEX_KEY, 'RESTORY_KEY'))).toMatchObject({ encrypted: true, problems: ['ok'], sessions: 1 });
  });

  it('journal: encrypted records are refused without the key or with a wrong one, and a torn encrypted tail is still dropped', async () => {
    const dir = newDataDirPath();
    await writeSecrets(dir, { RESTORY_KEY: HEX_KEY }, false);
    const file = join(dir, 'journal.log');
    const journal = readFileSync(file);
    const right = new StoreCipher(parseKeyText(HEX_KEY, 'RESTORY_KEY'));
    const wrong = new StoreCipher(parseKeyText(OTHER_HEX_KEY, 'RESTORY_KEY'));
    const all = parseJournal(journal, file, right);
    expect(all.records.map((r) => r.t)).toEqual(['create', 'events', 'snapshot']);
    expect(() => parseJournal(journal, file, null)).toThrow(/journal\.log is encrypted, but no key is set/);
    expect(() => parseJournal(journal, file, wrong)).toThrow(`cannot decrypt ${file}: wrong RESTORY_KEY?`);
    // Cut inside the last record (a crash during its write): the others survive, no key needed to tell.
    const lastStart = journal.lastIndexOf('\nE1 ') + 1;
    for (const cut of [lastStart + 2, lastStart + 40, journal.length - 1]) {
      const parsed = parseJournal(journal.subarray(0, cut), file, right);
      expect(parsed.records.map((r) => r.t)).toEqual(['create', 'events']);
      expect(parsed.tornBytes).toBe(cut - lastStart);
    }
    writeFileSync(file, journal.subarray(0, journal.length - 5));
    const store = await SqlJsStore.open({ dataDir: dir, env: { RESTORY_KEY: HEX_KEY } });
    expect(store.currentState('s').cookies.map((c) => c.value)).toEqual([COOKIE_VALUE]);
    expect(store.listSnapshots('s')).toEqual([]); // the torn snapshot record was dropped
    await store.close();
  });

  it('a key file (0600) works like RESTORY_KEY', async () => {
    const dir = newDataDirPath();
    mkdirSync(dir, { recursive: true });
    const keyFile = join(dir, '..', 'restory.key');
    writeFileSync(keyFile, 'my long passphrase from a file\n', { mode: 0o600 });
    await writeSecrets(dir, { RESTORY_KEY_FILE: keyFile }, true);
    expectNoSecrets(join(dir, 'restory.db'));
    await expectSecretsBack(dir, { RESTORY_KEY_FILE: keyFile });
    await expectSecretsBack(dir, { RESTORY_KEY: 'my long passphrase from a file' });
    await expect(SqlJsStore.open({ dataDir: dir, env: { RESTORY_KEY_FILE: keyFile, RESTORY_KEY: 'x'.repeat(10) } })).rejects.toThrow(/set only one/);
  });
});

describe('enabling encryption on a plaintext data dir', () => {
  it('the first read-write open with a key encrypts restory.db and the pending journal at once; read-only opens write nothing', async () => {
    const dir = newDataDirPath();
    await writeSecrets(dir, {}, false); // plaintext db + plaintext journal with the secrets
    const db = join(dir, 'restory.db');
    const journal = join(dir, 'journal.log');
    expect(readFileSync(journal).includes(STORAGE_VALUE)).toBe(true);
    const dbBefore = readFileSync(db);

    // Read-only with a key: reads the plaintext as it is, writes nothing.
    await expectSecretsBack(dir, { RESTORY_KEY: HEX_KEY });
    expect(readFileSync(db).equals(dbBefore)).toBe(true);

    const store = await SqlJsStore.open({ dataDir: dir, env: { RESTORY_KEY: HEX_KEY }, config: NO_TIMER });
    // Already migrated, before any further write or close.
    expect(readFileSync(db).subarray(0, ENC_MAGIC.length).equals(ENC_MAGIC)).toBe(true);
    expectNoSecrets(db);
    expect(readFileSync(journal).length).toBe(0);
    store.applyEvents('s', 'inst', [setLocal(3, { later: STORAGE_VALUE + '-2' })]);
    await store.flush();
    expect(readFileSync(journal).subarray(0, 3).toString()).toBe('E1 ');
    expectNoSecrets(journal);
    await store.close();
    expectNoSecrets(db);

    await expect(SqlJsStore.open({ dataDir: dir, env: {}, readOnly: true })).rejects.toThrow(/is encrypted, but no key is set/);
    const again = await SqlJsStore.open({ dataDir: dir, env: { RESTORY_KEY: HEX_KEY }, readOnly: true });
    expect(localItems(again.currentState('s'))).toEqual({ token: STORAGE_VALUE, later: STORAGE_VALUE + '-2' });
    await again.close();
  });

  it('a journal mixing plaintext and encrypted records (key set between two crashes) replays in order', async () => {
    const dir = newDataDirPath();
    const store = await SqlJsStore.open({ dataDir: dir, env: {}, config: NO_TIMER });
    store.createSession({ name: 's', id: 's' });
    store.checkpoint();
    store.applyEvents('s', 'inst', [setLocal(1, { a: '1' })]);
    await store.flush();
    const plain = readFileSync(join(dir, 'journal.log'));
    (store as unknown as { closed: boolean }).closed = true;
    (store as unknown as { lock: { release(): void } }).lock.release();
    const cipher = new StoreCipher(parseKeyText(HEX_KEY, 'RESTORY_KEY'));
    const { encodeRecord } = await import('../../companion/store/journal-format.js');
    const sealed = encodeRecord({ t: 'events', sid: 's', inst: 'inst', at: 1, evs: [setLocal(2, { b: '2' })], lsn: 3 }, cipher);
    writeFileSync(join(dir, 'journal.log'), Buffer.concat([plain, sealed]));
    const again = await SqlJsStore.open({ dataDir: dir, env: { RESTORY_KEY: HEX_KEY } });
    expect(localItems(again.currentState('s'))).toEqual({ a: '1', b: '2' });
    await again.close();
  });
});
