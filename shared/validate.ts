/**
 * The one way a boundary validates what it receives: a zod schema, and on failure a
 * RestoryError('bad_message') a human can read (which field, what was expected).
 */
import { z } from 'zod';
import { RestoryError } from './errors.js';

/** Validate `value` against `schema`, or throw a RestoryError('bad_message') readable by a human. */
export function parseMessage<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    // A batch of 100,000 bad events has 300,000 issues: name the first few, count the rest, so the
    // error stays readable and small enough to travel back in a frame.
    const issues = result.error.issues;
    const shown = z.prettifyError(new z.ZodError(issues.slice(0, MAX_ISSUES_SHOWN)));
    const more = issues.length > MAX_ISSUES_SHOWN ? `\n(and ${issues.length - MAX_ISSUES_SHOWN} more problems)` : '';
    throw new RestoryError('bad_message', `invalid ${what}: ${shown}${more}`);
  }
  return result.data;
}
const MAX_ISSUES_SHOWN = 10;
