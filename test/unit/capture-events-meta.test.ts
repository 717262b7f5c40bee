/**
 * Keeps the capture-event registry honest: every kind in CaptureEventSchema is produced somewhere
 * in the extension and folded in by the companion's reducer. The reducer's switch is also checked
 * by the compiler (`satisfies never`); this test catches the other end, a kind nothing emits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CaptureEventSchema } from '../../shared/capture-events.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const kinds = CaptureEventSchema.options.map((option) => option.shape.kind.value);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [readFileSync(path, 'utf8')] : [];
  });
}

describe('capture events', () => {
  const extension = sources(join(root, 'extension')).join('\n');
  const reducer = readFileSync(join(root, 'companion/session-state/live-state.ts'), 'utf8');

  it('the schema has kinds to check', () => {
    expect(kinds.length).toBeGreaterThan(0);
  });

  it.each(kinds)('%s has a producer in the extension', (kind) => {
    expect(extension).toContain(`kind: '${kind}'`);
  });

  it.each(kinds)('%s has a case in the live-state reducer', (kind) => {
    expect(reducer).toContain(`case '${kind}':`);
  });
});

describe('storage items', () => {
  const full = (items: unknown) => ({ kind: 'storage.full', tabId: 1, frameId: 0, origin: 'https://a.test', area: 'local', items });

  it('keep keys named like Object.prototype members, __proto__ included', () => {
    const parsed = CaptureEventSchema.parse(full(JSON.parse('{"__proto__":"p","constructor":"c","toString":"t"}')));
    expect(parsed.kind === 'storage.full' && Object.entries(parsed.items)).toEqual([['__proto__', 'p'], ['constructor', 'c'], ['toString', 't']]);
  });

  it.each([[{ a: 1 }], [['a']], [null], ['a=1'], [new Map([['a', '1']])]])('refuse %j', (items) => {
    expect(CaptureEventSchema.safeParse(full(items)).success).toBe(false);
  });
});
