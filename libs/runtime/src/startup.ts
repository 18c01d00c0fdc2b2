// What every service does when it cannot start: one log line an operator can act on, and an
// exit code that says whose move it is. 2: the configuration is wrong (fix it; restarting will
// not help). 1: anything else (Redis unreachable, a backend refusing us, a bug).
import { FsmError } from '@fsm-certs/core';
import { ConfigError } from '@fsm-certs/config';
import { createLogger, type Logger } from './logger.js';

export const EXIT_CODES = {
  /** Stopped cleanly (SIGTERM/SIGINT, every piece of work finished or handed back). */
  ok: 0,
  /** Failed to start for a reason other than configuration, or a shutdown that overran its budget. */
  failed: 1,
  /** Bad configuration: a value, a missing required option, an unreadable config file. */
  badConfig: 2,
} as const;

export type RuntimeErrorCode = 'STARTUP_FAILED';

export class StartupError extends FsmError<RuntimeErrorCode> {
  override readonly name = 'StartupError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STARTUP_FAILED', message, { httpStatus: 500, retryable: false, cause: options.cause });
  }
}

/**
 * Codes that mean "the operator's configuration is wrong": our config loader's, and the
 * providers' start-up checks that find configured objects missing or unusable.
 */
const CONFIGURATION_CODES: ReadonlySet<string> = new Set(['CONFIG_INVALID', 'CONFIG_FILE_INVALID', 'CONFIGURATION_INVALID', 'UNSUPPORTED_ISSUER']);

function codeOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** The exit code for a failed start: EXIT_CODES.badConfig for configuration, else EXIT_CODES.failed. */
export function startupExitCode(error: unknown): number {
  if (error instanceof ConfigError) return EXIT_CODES.badConfig;
  const code = codeOf(error);
  return code !== undefined && CONFIGURATION_CODES.has(code) ? EXIT_CODES.badConfig : EXIT_CODES.failed;
}

export function requireRedisUrl(url: string | undefined, service: string): string {
  if (url !== undefined) return url;
  throw new StartupError(
    `${service} needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379), or run the whole system with \`npm start\`, which launches a private redis-server.`,
  );
}

/**
 * Logs the failure as ONE fatal line and returns the exit code. The line is written even when
 * LOG_LEVEL is `silent`: a process that refuses to start must say why. A configuration error
 * carries no stack (its message names key, value and what is allowed); anything else does.
 */
export function reportStartupFailure(logger: Logger, service: string, error: unknown): number {
  const exitCode = startupExitCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const out = logger.isLevelEnabled('fatal') ? logger : createLogger({ service, level: 'fatal' });
  const fields = exitCode === EXIT_CODES.badConfig ? { code: codeOf(error), exitCode } : { code: codeOf(error), exitCode, err: error };
  out.fatal(fields, `${service} failed to start: ${message}`);
  return exitCode;
}
