// The CLI's own failures. Each becomes ONE line `fsm-certs: <code>: <detail>` on stderr and an
// exit code a script can branch on: 2 = the operator's input is wrong, 3 = the gateway could not
// be reached, 1 = the gateway refused or something unexpected happened (see report.ts).

/** Exit codes scripts rely on; here rather than in report.ts so `--help` loads no more than this. */
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export type CliInputCode = 'CLI_INVALID_INPUT' | 'NO_SERVER' | 'NO_TOKEN' | 'BAD_ENDPOINT_FILE';

/** The operator's input is wrong (unknown option, missing file, bad duration...): exit 2. */
export class CliInputError extends Error {
  override readonly name = 'CliInputError';
  readonly httpStatus = 400;
  readonly retryable = false;
  readonly code: CliInputCode;

  constructor(
    message: string,
    options: { cause?: unknown; code?: CliInputCode } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'CLI_INVALID_INPUT';
  }
}

export type GatewayUnreachableCode = 'GATEWAY_UNREACHABLE' | 'GATEWAY_TIMEOUT' | 'GATEWAY_TLS_UNTRUSTED';

/** No HTTP answer at all: connection refused, DNS, timeout, or a TLS certificate we do not trust: exit 3. */
export class GatewayUnreachableError extends Error {
  override readonly name = 'GatewayUnreachableError';
  readonly httpStatus = 503;
  readonly retryable: boolean;

  constructor(
    readonly code: GatewayUnreachableCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // A gateway that is down may come back; one whose certificate we refuse will not by itself.
    this.retryable = code !== 'GATEWAY_TLS_UNTRUSTED';
  }
}
