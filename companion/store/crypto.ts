/**
 * Optional encryption at rest of what holds credentials: the database file image and each journal
 * record. AES-256-GCM from node:crypto; every encrypted blob is self-describing:
 *
 *     "RSTY-ENC1" (9 bytes) | salt (16) | nonce (12) | ciphertext | tag (16)
 *
 * The key comes from RESTORY_KEY or RESTORY_KEY_FILE (not both). 64 hex digits or base64 of
 * exactly 32 bytes is the key itself; anything else is a passphrase, stretched with scrypt over the
 * salt. The salt is per data dir: chosen at random when a data dir is first encrypted, kept in the
 * header of restory.db and of every journal record, and reused at each persist, so scrypt runs once
 * per process and data dir. (With a raw key the salt is written but unused.) GCM authenticates,
 * so a wrong key is told apart from a damaged file, and a file that cannot be decrypted is never
 * rewritten. The additional data names what the blob is, so a journal record cannot pass as the db.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { RestoryError } from '../../shared/errors.js';

export const KEY_ENV = 'RESTORY_KEY';
export const KEY_FILE_ENV = 'RESTORY_KEY_FILE';

export const ENC_MAGIC = Buffer.from('RSTY-ENC1', 'latin1');
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = ENC_MAGIC.length + SALT_BYTES + NONCE_BYTES;
/** Bytes an encrypted blob adds to its plaintext. */
export const ENC_OVERHEAD = HEADER_BYTES + TAG_BYTES;
const MIN_PASSPHRASE = 8;
/** scrypt N=2^15, r=8, p=1: 32 MiB and ~0.1 s, once per process and data dir. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** What a blob is; authenticated with it, so blobs cannot be swapped between roles. */
export type BlobPurpose = 'restory.db' | 'journal record' | 'postgres value';

export interface KeySource {
  kind: 'raw' | 'passphrase';
  /** Where the key came from, for messages: RESTORY_KEY or RESTORY_KEY_FILE. */
  from: typeof KEY_ENV | typeof KEY_FILE_ENV;
  secret: Buffer;
}

function keyError(message: string): RestoryError {
  return new RestoryError('invalid_state', message);
}

/** Parse a key text: 64 hex digits or base64 of 32 bytes is a raw key, anything else a passphrase. */
export function parseKeyText(text: string, from: KeySource['from']): KeySource {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return { kind: 'raw', from, secret: Buffer.from(t, 'hex') };
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(t)) {
    const bytes = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
    if (bytes.length === 32) return { kind: 'raw', from, secret: bytes };
  }
  if (t.length < MIN_PASSPHRASE) {
    throw keyError(
      `${from} is too short: give 32 bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32), or a passphrase of at least ${MIN_PASSPHRASE} characters`,
    );
  }
  return { kind: 'passphrase', from, secret: Buffer.from(t, 'utf8') };
}

/**
 * The key configured in `env`, or null when encryption is off. A key file must be a regular file
 * of ours that nobody else can read (0600 or stricter); a looser one is refused, not used.
 */
export function keySourceFromEnv(env: NodeJS.ProcessEnv = process.env): KeySource | null {
  const text = env[KEY_ENV];
  const file = env[KEY_FILE_ENV];
  if (text && file) throw keyError(`both ${KEY_ENV} and ${KEY_FILE_ENV} are set; set only one of them`);
  if (text) return parseKeyText(text, KEY_ENV);
  if (!file) return null;
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw keyError(`${KEY_FILE_ENV} is set to ${file}, which cannot be read: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw keyError(`${KEY_FILE_ENV} is set to ${file}, which is not a regular file`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw keyError(
      `${KEY_FILE_ENV} ${file} is accessible by other users (mode ${mode.toString(8).padStart(4, '0')}); restrict it with: chmod 600 ${file}`,
    );
  }
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw keyError(`${KEY_FILE_ENV} ${file} belongs to another user (uid ${st.uid}); use a key file of your own`);
  }
  return parseKeyText(readFileSync(file, 'utf8'), KEY_FILE_ENV);
}

export function isEncrypted(bytes: Uint8Array): boolean {
  return bytes.length >= ENC_MAGIC.length && Buffer.from(bytes.buffer, bytes.byteOffset, ENC_MAGIC.length).equals(ENC_MAGIC);
}

/** The salt in an encrypted blob's header. */
export function saltOf(blob: Uint8Array): Buffer {
  return Buffer.from(blob.subarray(ENC_MAGIC.length, ENC_MAGIC.length + SALT_BYTES));
}

/**
 * Encrypts and decrypts the blobs of one data dir. Holds the key source and one derived key per
 * salt seen (a passphrase is stretched once per salt); new blobs use `salt`.
 */
export class StoreCipher {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    readonly source: KeySource,
    /** The data dir's salt: from its encrypted db, or new. */
    readonly salt: Buffer = randomBytes(SALT_BYTES),
  ) {}

  /** Encrypt `plain` under this data dir's salt. */
  seal(plain: Uint8Array, purpose: BlobPurpose): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keyFor(this.salt), nonce);
    cipher.setAAD(Buffer.from(purpose, 'latin1'));
    const body = cipher.update(plain);
    const final = cipher.final();
    return Buffer.concat([ENC_MAGIC, this.salt, nonce, body, final, cipher.getAuthTag()]);
  }

  /** Decrypt a blob; `file` names it in the error a wrong key gets. */
  open(blob: Uint8Array, purpose: BlobPurpose, file: string): Buffer {
    const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (!isEncrypted(buf) || buf.length < ENC_OVERHEAD) {
      throw new RestoryError('storage_failed', `cannot decrypt ${file}: it is not a restory encrypted file (or it is truncated). It was left untouched.`);
    }
    const salt = buf.subarray(ENC_MAGIC.length, ENC_MAGIC.length + SALT_BYTES);
    const nonce = buf.subarray(ENC_MAGIC.length + SALT_BYTES, HEADER_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.keyFor(salt), nonce);
      decipher.setAAD(Buffer.from(purpose, 'latin1'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(buf.subarray(HEADER_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
    } catch (e) {
      throw new RestoryError(
        'storage_failed',
        `cannot decrypt ${file}: wrong ${this.source.from}? (the authentication tag does not match: another key, or the file was altered). It was left untouched.`,
        { cause: e },
      );
    }
  }

  private keyFor(salt: Buffer): Buffer {
    if (this.source.kind === 'raw') return this.source.secret;
    const id = salt.toString('hex');
    let key = this.keys.get(id);
    if (!key) {
      key = scryptSync(this.source.secret, salt, 32, SCRYPT);
      this.keys.set(id, key);
    }
    return key;
  }
}

/** The error for an encrypted file met without a key. */
export function keyMissing(file: string): RestoryError {
  return new RestoryError(
    'storage_failed',
    `${file} is encrypted, but no key is set: set ${KEY_ENV} or ${KEY_FILE_ENV} to the key it was written with. It was left untouched.`,
  );
}
