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
