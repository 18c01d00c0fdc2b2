// The agent's own failures. Each has a stable code (what /healthz reports as lastError.code and
// what a log search finds), whether retrying may help, and a message naming what to do.
import { FsmError } from '@fsm-certs/core';

export type AgentErrorCode =
  /** The options given to startAgent / the CLI are wrong. */
  | 'AGENT_INVALID_OPTIONS'
  /** The token file is missing, unreadable or empty. */
  | 'TOKEN_UNREADABLE'
  /** No HTTP answer from the gateway (refused, reset, DNS, timeout, TLS). */
  | 'GATEWAY_UNREACHABLE'
  /** The gateway answered, but not with what the agent needs (missing key in server mode...). */
  | 'UNEXPECTED_RESPONSE'
  /** The certificate the gateway gave does not belong to the key the agent holds. */
  | 'CERTIFICATE_KEY_MISMATCH'
  /** The certificate does not chain to any root of the trust bundle. */
  | 'CERTIFICATE_UNTRUSTED'
  /** Writing the files failed (disk full, permissions). */
  | 'WRITE_FAILED'
  /** The reload command failed or the signal could not be sent. */
  | 'HOOK_FAILED';

const RETRYABLE: ReadonlySet<AgentErrorCode> = new Set(['TOKEN_UNREADABLE', 'GATEWAY_UNREACHABLE', 'UNEXPECTED_RESPONSE', 'CERTIFICATE_UNTRUSTED', 'WRITE_FAILED', 'HOOK_FAILED']);

export class AgentError extends FsmError<AgentErrorCode> {
  override readonly name = 'AgentError';

  constructor(code: AgentErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { httpStatus: code === 'AGENT_INVALID_OPTIONS' ? 400 : 503, retryable: RETRYABLE.has(code), cause: options.cause });
  }
}

/** `{code, message}` of any failure, for logs and /healthz (never a stack, key or token). */
export function describeError(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' && code !== '' ? code : 'UNEXPECTED', message };
}
