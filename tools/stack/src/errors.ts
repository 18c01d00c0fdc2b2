// Why the local stack could not start or stopped on its own. The messages are what `npm start`
// prints: each names the process or port at fault and what to do about it.
import { FsmError } from '@fsm-certs/core';

export type StackErrorCode = 'GATEWAY_PORT_IN_USE' | 'STACK_GAVE_UP' | 'STACK_NOT_READY' | 'STACK_START_FAILED';

export class StackError extends FsmError<StackErrorCode> {
  override readonly name = 'StackError';

  constructor(code: StackErrorCode, message: string, options: { cause?: unknown } = {}) {
    // Not an HTTP error; 503 is what a caller of a stack that is not up would see.
    super(code, message, { httpStatus: 503, retryable: code !== 'GATEWAY_PORT_IN_USE', cause: options.cause });
  }
}

export function gatewayPortInUse(port: number): StackError {
  return new StackError(
    'GATEWAY_PORT_IN_USE',
    `port ${port} on 127.0.0.1 is already in use by another process, so the issuer-gateway cannot listen there. ` +
      `Stop that process (\`ss -ltnp 'sport = :${port}'\` shows it), or choose another port: GATEWAY_PORT=<free port> npm start`,
  );
}
