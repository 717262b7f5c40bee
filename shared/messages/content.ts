/**
 * Messages between the content scripts and the background (runtime messaging inside the extension).
 * The background validates content → background messages here (`ContentMessageSchema`); content
 * scripts import only the types, so zod stays out of the content bundle.
 *
 * Tab id, frame id and origin are deliberately absent: the background takes them from the sender,
 * which a page cannot forge.
 */
import { z } from 'zod';
import { StorageAreaSchema } from '../capture-events.js';

/**
 * Checked in place rather than with z.record (as capture-events.ts does on the companion's side):
 * no copy of a 5 MB dump, and a "__proto__" key survives (a copy made by assignment would turn it
 * into the object's prototype).
 */
const ItemsSchema = z.custom<Record<string, string>>(isStringRecord, 'expected an object of string values');

function isStringRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key of Object.keys(value)) {
    if (typeof (value as Record<string, unknown>)[key] !== 'string') return false;
  }
  return true;
}

export const ContentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('restory.storage.full'), area: StorageAreaSchema, items: ItemsSchema }),
  z.object({
    type: z.literal('restory.storage.change'),
    area: StorageAreaSchema,
    clear: z.boolean(),
    set: ItemsSchema,
    remove: z.array(z.string()),
  }),
  z.object({ type: z.literal('restory.scroll'), x: z.number(), y: z.number() }),
  z.object({ type: z.literal('restory.viewport'), width: z.number().int().positive(), height: z.number().int().positive() }),
]);
export type ContentMessage = z.infer<typeof ContentMessageSchema>;

/** Background → content script: forget what you reported and send full dumps again (resync). */
export type BackgroundToContent = { type: 'restory.dump' };
export const DUMP_REQUEST: BackgroundToContent = { type: 'restory.dump' };

export function isContentMessageType(type: unknown): boolean {
  return typeof type === 'string' && type.startsWith('restory.') && type !== DUMP_REQUEST.type;
}
