// Maps any failure of one item to the error shape a job result carries. Our error classes
// (provider, x509, queue, issuance) all expose code / httpStatus / retryable and operator-facing
// messages without secrets; anything else is a bug and is reported without its internals.
import type { JobError } from '@fsm-certs/queue';

interface CodedError {
  readonly code: string;
  readonly message: string;
  readonly httpStatus: number;
  readonly retryable: boolean;
}

function isCodedError(value: unknown): value is CodedError {
  if (!(value instanceof Error)) return false;
  const candidate: Partial<Record<keyof CodedError, unknown>> = value;
  return (
    typeof candidate.code === 'string' &&
    typeof candidate.httpStatus === 'number' &&
    candidate.httpStatus >= 400 &&
    candidate.httpStatus <= 599
  );
}

/** Redis/ioredis transport failures: retrying after the reconnect helps. */
function isConnectionError(value: unknown): boolean {
  if (!(value instanceof Error)) return false;
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection is closed|Stream isn't writeable|max retries per request|LOADING/i.test(
    value.message,
  );
}

export function toJobError(error: unknown, requestId: string): JobError {
  if (isCodedError(error)) {
    return {
      code: error.code,
      message: error.message,
      httpStatus: error.httpStatus,
      retryable: typeof error.retryable === 'boolean' ? error.retryable : error.httpStatus >= 500,
    };
  }
  if (isConnectionError(error)) {
    return {
      code: 'BACKEND_UNAVAILABLE',
      message: 'The ca-service lost its Redis connection while issuing; retry shortly.',
      httpStatus: 503,
      retryable: true,
    };
  }
  return {
    code: 'INTERNAL',
    message: `Unexpected failure in the ca-service for request ${requestId}; see the ca-service logs for this request id.`,
    httpStatus: 500,
    retryable: false,
  };
}
