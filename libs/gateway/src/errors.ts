// Every failure the gateway answers with has a stable code, its HTTP status, whether a retry may
// help, and a cause. The error middleware (http/problem.ts) is the only place that turns these
// into responses; messages are written for the API caller and never carry keys, tokens or CSRs.
import { FsmError } from '@fsm-certs/core';

export type GatewayErrorCode =
  | 'INVALID_BODY' // 400: not JSON, or a field has the wrong type / shape
  | 'INVALID_NAME' // 400: commonName or a SAN is not a valid DNS name / IP / URI
  | 'INVALID_DURATION' // 400: validity is not a Go duration, or shorter than the minimum
  | 'INVALID_CSR' // 400: the CSR does not parse or its signature does not verify
  | 'INVALID_SPIFFE' // 400: spiffe:true with a CN that is not <sa>.<ns>.<trustDomain>
  | 'INVALID_QUERY' // 400: a query parameter (limit, cursor, includeKey) is malformed
  | 'UNAUTHENTICATED' // 401: no bearer token, or an unknown one
  | 'FORBIDDEN' // 403: the token lacks the scope this route needs
  | 'NAME_NOT_ALLOWED' // 403: the token's issue patterns do not cover this name
  | 'NOT_FOUND' // 404: unknown route
  | 'CERTIFICATE_NOT_FOUND' // 404: no certificate for that common name
  | 'NOT_ACCEPTABLE' // 406: Accept asks for a representation we do not serve
  | 'BODY_TOO_LARGE' // 413
  | 'UNSUPPORTED_MEDIA_TYPE' // 415: a body that is not application/json
  | 'RATE_LIMITED' // 429: the token's request budget is spent; see Retry-After
  | 'ISSUANCE_FAILED' // 502: the CA backend tried and failed
  | 'BACKEND_UNAVAILABLE' // 503: Redis / the queue / the CA service is down; see Retry-After
  | 'ISSUANCE_TIMEOUT' // 504: no result within the issue timeout
  | 'INTERNAL'; // 500: a bug; details are logged, never sent

const STATUS: Record<GatewayErrorCode, number> = {
  INVALID_BODY: 400,
  INVALID_NAME: 400,
  INVALID_DURATION: 400,
  INVALID_CSR: 400,
  INVALID_SPIFFE: 400,
  INVALID_QUERY: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NAME_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  CERTIFICATE_NOT_FOUND: 404,
  NOT_ACCEPTABLE: 406,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  ISSUANCE_FAILED: 502,
  BACKEND_UNAVAILABLE: 503,
  ISSUANCE_TIMEOUT: 504,
  INTERNAL: 500,
};

const TITLES: Record<GatewayErrorCode, string> = {
  INVALID_BODY: 'Invalid request body',
  INVALID_NAME: 'Invalid name',
  INVALID_DURATION: 'Invalid validity duration',
  INVALID_CSR: 'Invalid certificate signing request',
  INVALID_SPIFFE: 'Cannot derive a SPIFFE identity',
  INVALID_QUERY: 'Invalid query parameter',
  UNAUTHENTICATED: 'Authentication required',
  FORBIDDEN: 'Forbidden',
  NAME_NOT_ALLOWED: 'Name not allowed for this token',
  NOT_FOUND: 'Not found',
  CERTIFICATE_NOT_FOUND: 'Certificate not found',
  NOT_ACCEPTABLE: 'Not acceptable',
  BODY_TOO_LARGE: 'Request body too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  RATE_LIMITED: 'Too many requests',
  ISSUANCE_FAILED: 'Issuance failed',
  BACKEND_UNAVAILABLE: 'Backend unavailable',
  ISSUANCE_TIMEOUT: 'Issuance timed out',
  INTERNAL: 'Internal server error',
};

const RETRYABLE: ReadonlySet<GatewayErrorCode> = new Set(['RATE_LIMITED', 'BACKEND_UNAVAILABLE', 'ISSUANCE_TIMEOUT']);

export const GATEWAY_ERROR_CODES = Object.keys(STATUS) as GatewayErrorCode[];

export interface GatewayErrorOptions {
  readonly cause?: unknown;
  /** Seconds; sent as Retry-After (429, 503). */
  readonly retryAfterSeconds?: number;
  /** Overrides the status derived from the code (used for backend errors carrying their own). */
  readonly httpStatus?: number;
  /** A backend's own stable code (e.g. a ca-service item error) to pass through to the caller. */
  readonly publicCode?: string;
}

export class GatewayError extends FsmError<GatewayErrorCode> {
  override readonly name = 'GatewayError';
  readonly title: string;
  readonly retryAfterSeconds: number | undefined;
  /** The code the caller sees: `code` unless a backend supplied a more precise one. */
  readonly publicCode: string;

  constructor(code: GatewayErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(code, message, { httpStatus: options.httpStatus ?? STATUS[code], retryable: RETRYABLE.has(code), cause: options.cause });
    this.title = TITLES[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.publicCode = options.publicCode ?? code;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

export function statusOf(code: GatewayErrorCode): number {
  return STATUS[code];
}
