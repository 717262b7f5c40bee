/** The CLI specs spell out enums instead of importing them (start-up time); keep them equal. */
import { describe, expect, it } from 'vitest';
import { HOST_BROWSER_NAMES, SESSION_STATES } from '../../companion/cli/command-specs.js';
import { HOST_BROWSERS } from '../../companion/native-host/manifest.js';
import { SessionStatusSchema } from '../../shared/state.js';

describe('cli specs', () => {
  it('choices(match the schemas they stand for)', () => {
    expect([...SESSION_STATES]).toEqual(SessionStatusSchema.options);
    expect([...HOST_BROWSER_NAMES]).toEqual([...HOST_BROWSERS]);
  });
});
