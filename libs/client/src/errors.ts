import { FsmError } from '@fsm-certs/core';
import type { Problem } from './schemas.js';

/** A problem as received: the contract's, possibly without its descriptive fields. */
export type ReceivedProblem = Pick<Problem, 'status' | 'code'> & Partial<Omit<Problem, 'status' | 'code'>>;

/** Statuses the gateway answers for failures that may pass: 429 rate limit, 503 backend down, 504 timeout. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

/** A non-2xx answer from the gateway, carrying its problem+json code. */
export class GatewayRequestError extends FsmError {
  override readonly name = 'GatewayRequestError';

  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly retryAfterSeconds: number | undefined,
    readonly problem: ReceivedProblem | undefined,
  ) {
    super(code, message, { httpStatus: status, retryable: RETRYABLE_STATUSES.has(status) });
  }
}

/**
 * What went wrong below HTTP when `fetch` failed: the system or TLS error code undici puts somewhere
 * in its cause chain (ECONNREFUSED, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...), else the innermost message
 * (fetch's "bad port", a socket closed mid-answer). Undefined when `error` is not one of fetch's own
 * network failures ("fetch failed", "terminated"): any other TypeError is a bug and must surface.
 */
export function fetchNetworkFailure(error: unknown): string | undefined {
  if (!(error instanceof TypeError) || (error.message !== 'fetch failed' && error.message !== 'terminated')) return undefined;
  let current: unknown = error.cause;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    current = (current as { cause?: unknown }).cause;
  }
  const message = (error.cause as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message !== '' ? message : error.message;
}
