// Validation at the edge with the contract's schemas: a failure becomes a GatewayError whose
// code says what was wrong (the caller branches on it) and whose detail names the field.
import type { z } from 'zod';
import type { ProblemCode } from '@fsm-certs/api';
import { GatewayError } from '../errors.js';

export function zodDetail(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'value'}: ${i.message}`)
    .join('; ');
}

/** Parses `value` with `schema`, or throws `code` with the first issues as its detail. */
export function parseOr<S extends z.ZodType>(schema: S, value: unknown, code: ProblemCode, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new GatewayError(code, `Invalid ${what}: ${zodDetail(parsed.error)}.`, { cause: parsed.error });
}
