/** zod schemas of errors.ts's shapes, for the boundaries that validate them (protocol.ts, the popup's messages). */
import { z } from 'zod';
import { ERROR_CODES, type ErrorInfo } from './errors.js';

export const ErrorCodeSchema = z.enum(ERROR_CODES);

export const ErrorInfoSchema = z.object({ code: ErrorCodeSchema, message: z.string() }) satisfies z.ZodType<ErrorInfo>;
