/**
 * Imported first by every extension page and the service worker. zod 4 compiles fast object parsers with `new Function`
 * unless told not to; an extension's CSP forbids eval, and we want no eval attempted at all.
 */
import { z } from 'zod';

z.config({ jitless: true });
