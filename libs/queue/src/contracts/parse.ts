// Validation at the worker's edge: a payload that fails its schema can never succeed, so it is
// failed as unrecoverable (never retried forever) with a message naming the failing field.
import type { z } from 'zod';
import { InvalidJobPayloadError, QueueError } from '../errors.js';

function fieldPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(payload)' : path.map((p) => String(p)).join('.');
}

function describeIssues(error: z.ZodError): { message: string; fields: string[] } {
  const fields = error.issues.map((i) => fieldPath(i.path));
  const parts = error.issues.slice(0, 5).map((i) => `${fieldPath(i.path)}: ${i.message}`);
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : '';
  return { message: parts.join('; ') + more, fields };
}

/** Parses a job's data or throws InvalidJobPayloadError (a BullMQ UnrecoverableError). */
export function parseJobPayload<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const { message, fields } = describeIssues(parsed.error);
  throw new InvalidJobPayloadError(
    `Job payload rejected: ${message}. Fix the producer; this job will not be retried.`,
    fields,
    { cause: parsed.error },
  );
}

/** Parses something this lib reads back from Redis (record, result, event) or throws RECORD_INVALID. */
export function parseStored<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const { message } = describeIssues(parsed.error);
  throw new QueueError(
    'RECORD_INVALID',
    `${what} in Redis does not match its schema (${message}); it was written by an incompatible version — delete or migrate it.`,
    { cause: parsed.error },
  );
}
