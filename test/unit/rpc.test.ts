/**
 * companion/rpc.ts: every method of the shared protocol has a handler (the compiler checks the
 * handler map's type; this checks the object the companion really builds), and params are
 * validated against the method's schema before a handler sees them.
 */
import { describe, expect, it, vi } from 'vitest';
import { Methods } from '../../shared/protocol.js';
import { companionHandlers, invoke, type RpcHandlers } from '../../companion/rpc.js';
import { Companion } from '../../companion/companion.js';
import { removeTempDirs, tempDir } from '../helpers/temp-dirs.js';

describe('rpc', () => {
  it('the companion has a handler for every method and nothing else', () => {
    // Building the map only reads the companion when a handler runs.
    const handlers = companionHandlers({} as Companion);
    expect(Object.keys(handlers).sort()).toEqual(Object.keys(Methods).sort());
    for (const h of Object.values(handlers)) expect(typeof h).toBe('function');
  });

  it('refuses params that fail the method schema with bad_message, before the handler runs', async () => {
    const resume = vi.fn();
    const handlers = { resume } as unknown as RpcHandlers;
    await expect(invoke(handlers, 'resume', { sessionId: 42 }, { sessionId: null })).rejects.toMatchObject({
      code: 'bad_message',
      message: expect.stringContaining('invalid resume params'),
    });
    expect(resume).not.toHaveBeenCalled();
  });

  it('hands validated params and the caller to the handler', async () => {
    const close = vi.fn(async () => ({}));
    const handlers = { close } as unknown as RpcHandlers;
    await expect(invoke(handlers, 'close', { sessionId: 's1' }, { sessionId: 'popup-session' })).resolves.toEqual({});
    expect(close).toHaveBeenCalledWith({ sessionId: 's1' }, { sessionId: 'popup-session' });
  });

  it('a companion that is stopping refuses a request untouched, with companion_stopping', async () => {
    const companion = await Companion.open({ dataDir: tempDir('restory-rpc-stop-') });
    try {
      await expect(companion.request('status', {}, { sessionId: null })).resolves.toMatchObject({ pid: process.pid });
      const stopping = companion.shutdown();
      await expect(companion.request('start', {}, { sessionId: null })).rejects.toMatchObject({
        code: 'companion_stopping',
        message: expect.stringContaining('is stopping; start was not done'),
      });
      await stopping;
    } finally {
      await companion.shutdown();
      removeTempDirs();
    }
  });
});
