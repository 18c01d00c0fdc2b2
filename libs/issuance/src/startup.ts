// What both service mains share around their wiring: the one-line start-up failure (a bad
// config exits 2 naming the key; anything else exits 1), and the REDIS_URL requirement.
import type { Logger } from 'pino';

export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly code = 'STARTUP_FAILED' as const;
  readonly httpStatus = 500;
  readonly retryable = false;
}

export function requireRedisUrl(url: string | undefined, service: string): string {
  if (url !== undefined) return url;
  throw new StartupError(
    `${service} needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379), or run the whole system with \`npm start\`, which launches a private redis-server.`,
  );
}

/** Exit code for a start-up failure: 2 for bad configuration (the operator must fix input), else 1. */
export function startupExitCode(error: unknown): number {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  return code.startsWith('CONFIG') ? 2 : 1;
}

export function reportStartupFailure(logger: Logger, service: string, error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
  logger.fatal({ code, err: error instanceof Error && !code?.startsWith('CONFIG') ? error : undefined }, `${service} failed to start: ${message}`);
  return startupExitCode(error);
}
