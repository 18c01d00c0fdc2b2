// Graceful stop for the service processes, inside ONE budget (WORKER_SHUTDOWN_TIMEOUT, below the
// pod's terminationGracePeriodSeconds). The first SIGTERM/SIGINT runs `close`: stop taking work,
// finish what is in hand, close queues and Redis, exit 0. Work that cannot finish in time is not
// left to be cut off by the budget: `cancelLeadMs` before the budget ends, the cancel signal
// fires and the service aborts it and cleans up (a cert-manager CertificateRequest is deleted, a
// job is handed back to the queue), so the process still exits 0 within the budget. Only a close
// that overruns even that exits 1; a second signal exits 1 at once.
import { formatDuration } from '@fsm-certs/core';
import { ConfigError } from '@fsm-certs/config';
import type { Logger } from './logger.js';
import { EXIT_CODES } from './startup.js';

/** What a service needs after its work has settled: stop heartbeats, close queues and Redis. */
export const CLOSE_RESERVE_MS = 2_000;

/**
 * The cancel lead for a service whose calls in flight take up to `settleMs` to settle once
 * cancelled. A budget (WORKER_SHUTDOWN_TIMEOUT) too short to let them settle is bad
 * configuration: the process refuses to start rather than cut such calls off when it stops.
 */
export function cancelLeadFor(settleMs: number, budgetMs: number, what: string): number {
  const leadMs = settleMs + CLOSE_RESERVE_MS;
  if (settleMs > 0 && budgetMs < leadMs) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `Invalid configuration: worker.shutdownTimeout=${JSON.stringify(formatDuration(budgetMs))} (WORKER_SHUTDOWN_TIMEOUT): allowed: at least ${formatDuration(leadMs)} with ${what}, whose calls in flight take up to ${formatDuration(settleMs)} to settle once cancelled`,
    );
  }
  return leadMs;
}

export interface ShutdownOptions {
  readonly logger: Logger;
  /**
   * Stops the service. `cancel` aborts `cancelLeadMs` before the budget ends: whatever is still
   * in flight must then be cancelled and cleaned up rather than awaited.
   */
  readonly close: (cancel: AbortSignal) => Promise<void>;
  /** Time from the signal to the forced exit; default 30000 ms (Kubernetes' default grace period). */
  readonly budgetMs?: number;
  /**
   * How long the service needs, once cancelled, to settle and close (e.g. the provider's longest
   * uncancellable call plus closing connections). Read when the signal arrives, so it may depend
   * on what started. Default 0: cancel only when the budget is spent.
   */
  readonly cancelLeadMs?: () => number;
  /** Called once at the first signal, before `close` (readiness turns to "stopping"). */
  readonly onStopping?: () => void;
  readonly signals?: readonly NodeJS.Signals[];
  /** Injected for tests; default process.exit. */
  readonly exit?: (code: number) => void;
}

export interface ShutdownHandle {
  /** Runs the shutdown as if `signal` had arrived (what the signal handler does). */
  trigger(signal: NodeJS.Signals): void;
  /** Removes the signal handlers. */
  uninstall(): void;
}

export function installShutdownHandlers(options: ShutdownOptions): ShutdownHandle {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const budgetMs = options.budgetMs ?? 30_000;
  const { logger } = options;
  let stopping = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal during shutdown: exiting now');
      exit(EXIT_CODES.failed);
      return;
    }
    stopping = true;
    options.onStopping?.();
    const leadMs = Math.max(0, options.cancelLeadMs?.() ?? 0);
    const cancelAfterMs = Math.max(0, budgetMs - leadMs);
    logger.info({ signal, budgetMs, cancelAfterMs }, 'shutting down: finishing in-flight work');
    const cancel = new AbortController();
    const cancelTimer = setTimeout(() => {
      logger.warn({ budgetMs, cancelAfterMs }, 'shutdown budget nearly spent: cancelling work still in flight');
      cancel.abort(new Error(`shutdown budget of ${budgetMs} ms nearly spent`));
    }, cancelAfterMs);
    const overrunTimer = setTimeout(() => {
      logger.error({ budgetMs }, 'shutdown overran its budget: exiting without finishing');
      exit(EXIT_CODES.failed);
    }, budgetMs);
    const done = (code: number): void => {
      clearTimeout(cancelTimer);
      clearTimeout(overrunTimer);
      exit(code);
    };
    let closing: Promise<void>;
    try {
      closing = options.close(cancel.signal);
    } catch (error) {
      closing = Promise.reject(error);
    }
    closing.then(
      () => {
        logger.info(cancel.signal.aborted ? 'stopped cleanly after cancelling work in flight' : 'stopped cleanly');
        done(EXIT_CODES.ok);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        done(EXIT_CODES.failed);
      },
    );
  };

  for (const signal of signals) process.on(signal, onSignal);
  return {
    trigger: onSignal,
    uninstall() {
      for (const signal of signals) process.off(signal, onSignal);
    },
  };
}
