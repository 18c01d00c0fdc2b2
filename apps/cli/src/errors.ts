// Errors the CLI reports as one line on stderr with exit code 2: the operator's input is wrong.
export class CliInputError extends Error {
  override readonly name = 'CliInputError';
  readonly code = 'CLI_INVALID_INPUT';
  readonly httpStatus = 400;
  readonly retryable = false;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}
