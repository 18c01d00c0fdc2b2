// Any failure → one stderr line `fsm-certs: <code>: <detail>` and the exit code scripts rely on.
import { GatewayRequestError } from '@fsm-certs/client';
import { ConfigError } from '@fsm-certs/config';
import { CliInputError, EXIT, GatewayUnreachableError } from './errors.js';

export { EXIT };

export interface FailureReport {
  readonly line: string;
  readonly exitCode: number;
}

const AUTH_HINT: Readonly<Record<number, string>> = {
  401: ' (check --token / FSM_CERTS_TOKEN)',
  403: ' (the token lacks this scope or name)',
};

export function describeFailure(error: unknown): FailureReport {
  if (error instanceof CliInputError || error instanceof ConfigError) {
    return { line: oneLine(error.code, error.message), exitCode: EXIT.usage };
  }
  if (error instanceof GatewayUnreachableError) {
    return { line: oneLine(error.code, error.message), exitCode: EXIT.unreachable };
  }
  if (error instanceof GatewayRequestError) {
    const detail = error.problem?.detail ?? error.problem?.title ?? error.message.replace(`${error.code}: `, '');
    return { line: oneLine(error.code, `${detail}${AUTH_HINT[error.status] ?? ''}`), exitCode: EXIT.refused };
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  // x509 input errors (bad CSR, validity under 10 minutes) carry 400: the operator's input.
  const exitCode = (error as { httpStatus?: unknown } | null)?.httpStatus === 400 ? EXIT.usage : EXIT.refused;
  return { line: oneLine(typeof code === 'string' ? code : 'UNEXPECTED', message), exitCode };
}

function oneLine(code: string, detail: string): string {
  return `fsm-certs: ${code}: ${detail.replace(/\s*\n\s*/g, ' ')}\n`;
}
