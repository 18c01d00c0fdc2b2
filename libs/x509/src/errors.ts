import { FsmError } from '@fsm-certs/core';
import type { X509ErrorCode } from './types.js';

/** Codes caused by what a caller sent us; everything else is a server-side (configuration) fault. */
const INPUT_ERROR_CODES: ReadonlySet<X509ErrorCode> = new Set<X509ErrorCode>([
  'INVALID_DURATION',
  'INVALID_PEM',
  'INVALID_CSR',
  'CSR_SIGNATURE_INVALID',
  'INVALID_NAME',
  'VALIDITY_TOO_SHORT',
  'UNSUPPORTED_KEY',
  'CHAIN_INVALID',
]);

export interface X509ErrorOptions {
  readonly cause?: unknown;
  /** Overrides the code's default status, e.g. a malformed CA bundle is our fault (500), not the caller's. */
  readonly httpStatus?: number;
}

/**
 * The one error type of libs/x509. Nothing here is retryable: the same input fails the same way.
 * Messages never contain key material; they name the offending input and what to do about it.
 */
export class X509Error extends FsmError<X509ErrorCode> {
  override readonly name = 'X509Error';
  declare readonly retryable: false;

  constructor(code: X509ErrorCode, message: string, options: X509ErrorOptions = {}) {
    super(code, message, {
      httpStatus: options.httpStatus ?? (INPUT_ERROR_CODES.has(code) ? 400 : 500),
      retryable: false,
      cause: options.cause,
    });
  }
}

export function isX509Error(value: unknown): value is X509Error {
  return value instanceof X509Error;
}
