/**
 * The journal's on-disk format: one record per line,
 *
 *     J1 <crc32 of the JSON bytes, 8 hex digits> <byte length of the JSON> <JSON>\n
 *
 * or, with encryption at rest (crypto.ts), the JSON sealed on its own:
 *
 *     E1 <crc32 of the encrypted bytes> <their byte length> <RSTY-ENC1 blob>\n
 *
 * Each record is encrypted individually and its checksum covers the ciphertext, so a torn record is
 * recognised as before, without the key. Both kinds may follow each other in one file (a plaintext
 * data dir whose key was just set).
 *
 * Self-delimiting (the length says where the record ends; the newline must be right there) and
 * checksummed, so a record torn by a crash is recognised. Records carry a strictly increasing LSN.
 * A damaged region followed by nothing valid is a torn tail (the last group write was cut short)
 * and is dropped; a damaged region followed by a valid record is corruption and is refused.
 */
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { SequencedEvent } from '../../shared/capture-events.js';
import { RestoryError } from '../../shared/errors.js';
import type { SessionState, SessionStatus, SnapshotReason } from '../../shared/state.js';
import type { StoredLiveStateData } from '../session-state/live-state.js';
import { keyMissing, type StoreCipher } from './crypto.js';

export type JournalEntry =
  | { t: 'create'; sid: string; name: string; status: SessionStatus; at: number; live: StoredLiveStateData; lim?: { at: number; bytes: number } }
  /**
   * `evs` as they were folded in: already cut down to the session's storage limit, and then `lim`
   * is that limit (the session is marked as having reached it).
   */
  | { t: 'events'; sid: string; inst: string; at: number; evs: SequencedEvent[]; lim?: number }
  /** Replace the live state wholesale (resume from a snapshot). */
  | { t: 'reset'; sid: string; live: StoredLiveStateData }
  | { t: 'status'; sid: string; status: SessionStatus; err?: string | null }
  | { t: 'delete'; sid: string }
  /** `state` only when the caller passed one; otherwise replaying the events before it rebuilds it. */
  | { t: 'snapshot'; sid: string; id: number; reason: SnapshotReason; at: number; hash: string; keep: number; state?: SessionState }
  | { t: 'prune'; sid: string; keep: number };

export type JournalRecord = JournalEntry & { lsn: number };

/** The journal file's bytes; a missing file is an empty journal. */
export function readJournalFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw new RestoryError('storage_failed', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

const HEADER_MAX = 32;
const NEWLINE = 0x0a;

/** One record, encrypted when a cipher is given. */
export function encodeRecord(record: JournalRecord, cipher?: StoreCipher | null): Buffer {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  const body = cipher ? cipher.seal(json, 'journal record') : json;
  const crc = crc32(body).toString(16).padStart(8, '0');
  const header = Buffer.from(`${cipher ? 'E1' : 'J1'} ${crc} ${body.length} `, 'latin1');
  return Buffer.concat([header, body, Buffer.from([NEWLINE])]);
}

type Attempt = { ok: true; record: JournalRecord; end: number } | { ok: false; why: string };

/**
 * Decode the record at `pos`. A damaged record is `ok: false`; an intact encrypted record that
 * cannot be decrypted (no key, wrong key) throws, since that is no damage the parser may drop.
 */
function decodeAt(buf: Buffer, pos: number, file: string, cipher: StoreCipher | null | undefined): Attempt {
  const headerEnd = Math.min(buf.length, pos + HEADER_MAX);
  const header = buf.toString('latin1', pos, headerEnd);
  const m = /^([JE])1 ([0-9a-f]{8}) (\d{1,10}) /.exec(header);
  if (!m) return { ok: false, why: 'bad record header' };
  const start = pos + m[0].length;
  const length = Number(m[3]);
  const end = start + length;
  if (end >= buf.length) return { ok: false, why: 'incomplete record' };
  if (buf[end] !== NEWLINE) return { ok: false, why: 'record length does not match' };
  let body = buf.subarray(start, end);
  if (crc32(body) !== parseInt(m[2], 16)) return { ok: false, why: 'checksum mismatch' };
  if (m[1] === 'E') {
    if (!cipher) throw keyMissing(file);
    body = cipher.open(body, 'journal record', file);
  }
  let record: unknown;
  try {
    record = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, why: 'record is not JSON' };
  }
  const r = record as Partial<JournalRecord> | null;
  if (!r || typeof r !== 'object' || !Number.isSafeInteger(r.lsn) || typeof r.t !== 'string') {
    return { ok: false, why: 'record lacks lsn or type' };
  }
  return { ok: true, record: r as JournalRecord, end: end + 1 };
}

export interface ParsedJournal {
  records: JournalRecord[];
  /** Bytes of complete, valid records. */
  validBytes: number;
  /** Bytes of a torn tail that were ignored (0 if the file ended cleanly). */
  tornBytes: number;
}

function journalCorrupt(file: string, offset: number, why: string): RestoryError {
  return new RestoryError(
    'storage_failed',
    `${file} is damaged at byte ${offset} (${why}) with valid records after it, so it is not a torn tail from a crash. ` +
      `It was left untouched. Move it aside (mv "${file}" "${file}.bad") to start from the last checkpoint in restory.db, losing what it held, or restore a backup.`,
  );
}

/** `cipher` decrypts encrypted records; without one, meeting an encrypted record is an error. */
export function parseJournal(buf: Buffer, file: string, cipher?: StoreCipher | null): ParsedJournal {
  const records: JournalRecord[] = [];
  let pos = 0;
  let lastLsn = 0;
  while (pos < buf.length) {
    const a = decodeAt(buf, pos, file, cipher);
    if (a.ok) {
      if (a.record.lsn <= lastLsn) throw journalCorrupt(file, pos, `LSN ${a.record.lsn} after ${lastLsn}`);
      lastLsn = a.record.lsn;
      records.push(a.record);
      pos = a.end;
      continue;
    }
    // Anything valid further on means this is not the tail of the last write.
    for (let nl = buf.indexOf(NEWLINE, pos); nl >= 0 && nl + 1 < buf.length; nl = buf.indexOf(NEWLINE, nl + 1)) {
      if (decodeAt(buf, nl + 1, file, cipher).ok) throw journalCorrupt(file, pos, a.why);
    }
    // An interrupted append leaves the start of a record (or blocks the file system never filled:
    // zeros) where the next record begins. Anything else there is not from us: refuse, don't drop.
    if (!/^(?:[JE](?:1(?: |$)|$)|\0)/.test(buf.toString('latin1', pos, pos + 3))) {
      throw new RestoryError(
        'storage_failed',
        `${file} holds ${buf.length - pos} bytes at byte ${pos} that are not journal records (${a.why}) and not the tail of an interrupted write. ` +
          `It was left untouched. Move it aside (mv "${file}" "${file}.bad") to start from the last checkpoint in restory.db, losing what it held, or restore a backup.`,
      );
    }
    return { records, validBytes: pos, tornBytes: buf.length - pos };
  }
  return { records, validBytes: pos, tornBytes: 0 };
}

/** One journal file's bytes: the active `journal.log` or a rotated segment (journal.ts). */
export interface JournalSegment {
  file: string;
  bytes: Buffer;
}

/**
 * The records of several journal files as one LSN-ordered list (a rotated segment and the active
 * file may both exist after a crash mid-checkpoint). Each file is parsed on its own, so a torn
 * tail is recognised per file; a record in two files (not written so today, but harmless) is kept
 * once. The replay's gap check still refuses files that do not continue each other.
 */
export function parseJournals(segments: JournalSegment[], cipher?: StoreCipher | null): ParsedJournal & { torn: { file: string; bytes: number }[] } {
  const byLsn = new Map<number, JournalRecord>();
  let validBytes = 0;
  let tornBytes = 0;
  const torn: { file: string; bytes: number }[] = [];
  for (const seg of segments) {
    const parsed = parseJournal(seg.bytes, seg.file, cipher);
    for (const r of parsed.records) if (!byLsn.has(r.lsn)) byLsn.set(r.lsn, r);
    validBytes += parsed.validBytes;
    tornBytes += parsed.tornBytes;
    if (parsed.tornBytes > 0) torn.push({ file: seg.file, bytes: parsed.tornBytes });
  }
  const records = [...byLsn.values()].sort((a, b) => a.lsn - b.lsn);
  return { records, validBytes, tornBytes, torn };
}
