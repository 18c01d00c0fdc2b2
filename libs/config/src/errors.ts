// Configuration errors stop the process at start-up. The message is ONE line an operator can act
// on: the key, the value (secrets redacted), where it came from and what is allowed.
export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_FILE_INVALID';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly httpStatus = 500;
  readonly retryable = false;

  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message.replace(/\s*\n\s*/g, ' '), options.cause === undefined ? undefined : { cause: options.cause });
  }
}
