// Configuration errors stop the process at start-up. The message is ONE line an operator can act
// on: the key, the value (secrets redacted), where it came from and what is allowed.
import { FsmError } from '@fsm-certs/core';

export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_FILE_INVALID';

export class ConfigError extends FsmError<ConfigErrorCode> {
  override readonly name = 'ConfigError';

  constructor(code: ConfigErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message.replace(/\s*\n\s*/g, ' '), { httpStatus: 500, retryable: false, cause: options.cause });
  }
}
