/**
 * Background → popup messages carry `{ code, message }`: the zod schemas accept the protocol's codes
 * and the extension's own, nothing else; Chromium's port failure texts become codes in one place.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodeSchema } from '../../shared/error-schemas.js';
import { PopupReplySchema, PopupStatusSchema } from '../../shared/messages/popup.js';
import { chromiumLinkError } from '../../extension/background/link-errors.js';

describe('popup messages: error codes as data', () => {
  it('a status or reply error is { code, message } with a known code', () => {
    for (const code of [...ErrorCodeSchema.options, 'host_not_installed', 'host_exited', 'request_timeout'] as const) {
      expect(PopupStatusSchema.safeParse({ state: 'disconnected', sessionId: null, lastError: { code, message: 'm' } }).success, code).toBe(true);
      expect(PopupReplySchema.safeParse({ ok: false, error: { code, message: 'm' } }).success, code).toBe(true);
    }
    // Text alone (the old shape) and unknown codes are refused.
    expect(PopupStatusSchema.safeParse({ state: 'disconnected', sessionId: null, lastError: 'Native host has exited.' }).success).toBe(false);
    expect(PopupReplySchema.safeParse({ ok: false, error: { code: 'nope', message: 'm' } }).success).toBe(false);
  });

  it("chromiumLinkError: Chromium's connectNative texts become codes", () => {
    expect(chromiumLinkError('Specified native messaging host not found.')).toEqual({
      code: 'host_not_installed',
      message: 'Specified native messaging host not found.',
    });
    expect(chromiumLinkError('Access to the specified native messaging host is forbidden.').code).toBe('host_not_installed');
    expect(chromiumLinkError('Native host has exited.')).toEqual({ code: 'host_exited', message: 'Native host has exited.' });
    expect(chromiumLinkError(undefined).code).toBe('host_exited');
  });
});
