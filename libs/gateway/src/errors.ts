// Every failure the gateway answers with has a stable code, its HTTP status, whether a retry may
// help, and a cause. The error middleware (http/problem.ts) is the only place that turns these
// into responses; messages are written for the API caller and never carry keys, tokens or CSRs.
import { PROBLEM_CODES, PROBLEM_CODE_NAMES, type ProblemCode } from '@fsm-certs/api';
import { FsmError } from '@fsm-certs/core';

/** Every stable code, its status and title: the contract's table (@fsm-certs/api PROBLEM_CODES). */
export type GatewayErrorCode = ProblemCode;

const RETRYABLE: ReadonlySet<GatewayErrorCode> = new Set(['RATE_LIMITED', 'BACKEND_UNAVAILABLE', 'ISSUANCE_TIMEOUT', 'NOT_READY']);

export const GATEWAY_ERROR_CODES: readonly GatewayErrorCode[] = PROBLEM_CODE_NAMES;

export interface GatewayErrorOptions {
  readonly cause?: unknown;
  /** Seconds; sent as Retry-After (429, 503). */
  readonly retryAfterSeconds?: number;
  /** Overrides the status derived from the code (used for backend errors carrying their own). */
  readonly httpStatus?: number;
  /** A backend's own stable code (e.g. a ca-service item error) to pass through to the caller. */
  readonly publicCode?: string;
  /** Methods the path has; sent as Allow (405). */
  readonly allow?: readonly string[];
}

export class GatewayError extends FsmError<GatewayErrorCode> {
  override readonly name = 'GatewayError';
  readonly title: string;
  readonly retryAfterSeconds: number | undefined;
  /** The code the caller sees: `code` unless a backend supplied a more precise one. */
  readonly publicCode: string;
  readonly allow: readonly string[] | undefined;

  constructor(code: GatewayErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(code, message, { httpStatus: options.httpStatus ?? PROBLEM_CODES[code].status, retryable: RETRYABLE.has(code), cause: options.cause });
    this.title = PROBLEM_CODES[code].title;
    this.allow = options.allow;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.publicCode = options.publicCode ?? code;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
