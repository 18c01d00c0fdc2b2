import type { Problem } from './schemas.js';

/** A non-2xx answer from the gateway, carrying its problem+json code. */
export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | undefined,
    readonly problem: Problem | undefined,
  ) {
    super(message);
  }
}
