// The one error base class. Every failure that crosses a module boundary is an FsmError subclass
// with a stable `code` (a union type per lib), the HTTP status the gateway answers with, whether
// a retry may help, and a `cause`. Messages tell the operator what to do and never carry key
// material, tokens or CSRs.

export interface FsmErrorInit {
  /** HTTP status the gateway answers with when this error reaches a caller. */
  readonly httpStatus: number;
  /** True when the same request may succeed later (backend down, timeout, conflict). */
  readonly retryable: boolean;
  readonly cause?: unknown;
}

export class FsmError<Code extends string = string> extends Error {
  override readonly name: string = 'FsmError';
  readonly code: Code;
  readonly httpStatus: number;
  readonly retryable: boolean;

  constructor(code: Code, message: string, init: FsmErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.httpStatus = init.httpStatus;
    this.retryable = init.retryable;
  }
}

export function isFsmError(value: unknown): value is FsmError {
  return value instanceof FsmError;
}

/** Errors of this lib itself: only malformed input to its parsers. */
export type CoreErrorCode = 'INVALID_DURATION';

export class CoreError extends FsmError<CoreErrorCode> {
  override readonly name = 'CoreError';

  constructor(code: CoreErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { httpStatus: 400, retryable: false, cause: options.cause });
  }
}
