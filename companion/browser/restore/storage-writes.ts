/**
 * Storage to write into a page, cut into calls small enough for Chromium's DevTools WebSocket, which
 * handles a large message in time that grows faster than its size: measured on Chromium 156 over
 * connectOverCDP, one evaluate carrying 10 MiB of localStorage (15 MB of UTF-8) took 42 s, the same
 * data in messages of 256 Ki characters ~4 s; a 4 MiB sessionStorage init script took 21 s. Values
 * longer than one message travel in pieces, joined in the page before setItem.
 */
import type { StorageItem } from '../../../shared/state.js';

export const MESSAGE_CHARS = 256 * 1024;

/** One call's worth: whole items, and/or the next piece of a long value (set once `key` comes). */
export interface StorageWriteCall {
  /** The first call of this storage area (clear it, or check it is empty). */
  first: boolean;
  /** The last call: nothing may be left on the page's window after it. */
  last: boolean;
  pairs: Array<[string, string]>;
  piece?: string;
  key?: string;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** `items` as calls of at most MESSAGE_CHARS characters each (about); always at least one call. */
export function storageWriteCalls(items: StorageItem[]): StorageWriteCall[] {
  const calls: StorageWriteCall[] = [{ first: true, last: false, pairs: [] }];
  let chars = 0;
  const current = () => calls[calls.length - 1];
  const isEmpty = (c: StorageWriteCall) => !c.pairs.length && c.piece === undefined && c.key === undefined;
  const next = () => {
    if (!isEmpty(current())) calls.push({ first: false, last: false, pairs: [] });
    chars = 0;
  };
  for (const { name, value } of items) {
    const size = name.length + value.length;
    if (chars > 0 && chars + size > MESSAGE_CHARS) next();
    if (size <= MESSAGE_CHARS) {
      current().pairs.push([name, value]);
      chars += size;
      continue;
    }
    for (let at = 0; at < value.length; ) {
      let end = Math.min(at + MESSAGE_CHARS, value.length);
      if (end < value.length && isHighSurrogate(value.charCodeAt(end - 1))) end--; // never split a pair
      current().piece = value.slice(at, end);
      at = end;
      if (at < value.length) next();
    }
    current().key = name;
    next();
  }
  if (calls.length > 1 && isEmpty(current())) calls.pop();
  current().last = true;
  return calls;
}
