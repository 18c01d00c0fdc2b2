// Graceful stop for the service processes: the first SIGTERM/SIGINT runs `close` (finish the
// in-flight job, close queues and Redis) and exits 0; a second signal or a close that overruns
// its budget exits 1 at once, so an orchestrator never waits on a wedged process.
import type { Logger } from 'pino';

export interface ShutdownOptions {
  readonly logger: Logger;
  readonly close: () => Promise<void>;
  /** Budget for `close`; default 30000 ms (Kubernetes' default grace period). */
  readonly timeoutMs?: number;
  readonly signals?: readonly NodeJS.Signals[];
  /** Injected for tests; default process.exit. */
  readonly exit?: (code: number) => void;
}

export function installShutdownHandlers(options: ShutdownOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const timeoutMs = options.timeoutMs ?? 30_000;
  let stopping = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      options.logger.warn({ signal }, 'second signal during shutdown: exiting now');
      exit(1);
      return;
    }
    stopping = true;
    options.logger.info({ signal, timeoutMs }, 'shutting down: finishing in-flight work');
    const timer = setTimeout(() => {
      options.logger.error({ timeoutMs }, 'shutdown overran its budget: exiting without finishing');
      exit(1);
    }, timeoutMs);
    timer.unref();
    options
      .close()
      .then(() => {
        clearTimeout(timer);
        options.logger.info('stopped cleanly');
        exit(0);
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        options.logger.error({ err: error }, 'shutdown failed');
        exit(1);
      });
  };

  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
