// The skeleton every service app runs on: logger → configuration → health endpoints → start the
// service → serve until SIGTERM/SIGINT → stop within the shutdown budget. The app supplies only
// `start` (its wiring); exit codes, log lines, readiness phases and the budget are the same in
// every app:
//   exit 2  bad configuration (one log line naming key, value and what is allowed)
//   exit 1  any other start-up failure, or a shutdown that overran its budget
//   exit 0  stopped cleanly
import { loadConfig, type FsmConfig } from '@fsm-certs/config';
import type { Registry } from 'prom-client';
import { startHealthServer, type HealthServer } from './health-server.js';
import { createLogger, instanceId as defaultInstanceId, logLevelFromEnv, type Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { ServiceReadiness, type ReadinessChecks } from './readiness.js';
import { installShutdownHandlers } from './shutdown.js';
import { reportStartupFailure, StartupError } from './startup.js';

export interface ServiceContext {
  readonly service: string;
  readonly config: FsmConfig;
  /** The process's logger: pass it to every component (providers included). */
  readonly logger: Logger;
  /** `<service>@<host>:<pid>`: heartbeat member, BullMQ worker name, Redis connection name. */
  readonly instanceId: string;
  /** The process's metrics registry, served at /metrics. */
  readonly registry: Registry;
}

export interface StartedService {
  /** Named checks /readyz runs while the service runs (besides `lifecycle`). */
  readonly readiness: ReadinessChecks;
  /**
   * Stop taking work, finish what is in hand, close every connection. When `cancel` aborts,
   * abort what is still in flight and clean it up instead of waiting for it.
   */
  close(cancel: AbortSignal): Promise<void>;
  /**
   * How long before the end of the shutdown budget `cancel` must fire: the longest a call in
   * flight may take to settle once cancelled, plus closing. Default 0.
   */
  readonly cancelLeadMs?: number;
}

export interface ServiceDefinition {
  readonly name: string;
  /**
   * Serve /healthz, /readyz and /metrics on health.host:health.port (HEALTH_HOST/HEALTH_PORT).
   * Default true; the issuer-gateway serves them on its own port and says false.
   */
  readonly healthServer?: boolean;
  start(context: ServiceContext): Promise<StartedService>;
}

export interface RunServiceOptions {
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default process.exit. */
  readonly exit?: (code: number) => void;
  /** Where log lines go; default stdout. */
  readonly logDestination?: NodeJS.WritableStream;
  readonly signals?: readonly NodeJS.Signals[];
}

export interface RunningProcess {
  readonly logger: Logger;
  /** Resolves once the service has started (rejects if it failed to). */
  readonly started: Promise<void>;
  readonly readiness: ServiceReadiness;
  /** The health server, once listening. */
  health(): HealthServer | undefined;
  /** Stops as SIGTERM would. */
  stop(): void;
}

function listenFailure(error: unknown, host: string, port: number): unknown {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') return error;
  return new StartupError(`The health endpoints cannot listen on ${host}:${port} (${code}): set HEALTH_PORT to a free port (0 = any) or HEALTH_HOST to an address of this host.`, { cause: error });
}

export function runService(definition: ServiceDefinition, options: RunServiceOptions = {}): RunningProcess {
  const env = options.env ?? process.env;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const service = definition.name;
  // `silent` still lets the one fatal line through: a process that refuses to start must say why.
  const level = logLevelFromEnv(env);
  const logger = createLogger({ service, level: level === 'silent' ? 'fatal' : level, ...(options.logDestination === undefined ? {} : { destination: options.logDestination }) });
  const readiness = new ServiceReadiness();
  let health: HealthServer | undefined;
  let running: StartedService | undefined;
  let exited = false;
  const exitOnce = (code: number): void => {
    if (exited) return;
    exited = true;
    exit(code);
  };

  let config: FsmConfig;
  try {
    config = loadConfig({ env });
  } catch (error) {
    exitOnce(reportStartupFailure(logger, service, error));
    const failed = Promise.reject(error);
    failed.catch(() => undefined);
    return { logger, started: failed, readiness, health: () => undefined, stop: () => undefined };
  }

  const registry = createMetricsRegistry();
  const started = (async () => {
    if (definition.healthServer !== false) {
      const { host, port } = config.health;
      health = await startHealthServer({ host, port, readiness: () => readiness.report(), registry, logger }).catch((error: unknown) => {
        throw listenFailure(error, host, port);
      });
      logger.info({ url: health.url }, 'health endpoints listening (/healthz, /readyz, /metrics)');
    }
    running = await definition.start({ service, config, logger, instanceId: defaultInstanceId(service), registry });
    readiness.running(running.readiness);
  })();

  const shutdown = installShutdownHandlers({
    logger,
    budgetMs: config.worker.shutdownTimeoutMs,
    cancelLeadMs: () => running?.cancelLeadMs ?? 0,
    onStopping: () => readiness.stopping(),
    exit: exitOnce,
    ...(options.signals === undefined ? {} : { signals: options.signals }),
    close: async (cancel) => {
      // A signal during start-up waits for it (nothing half-started is left behind), unless the
      // budget runs out first: then nothing is in hand yet and there is nothing to finish.
      const cancelled = new Promise<'cancelled'>((resolve) => cancel.addEventListener('abort', () => resolve('cancelled'), { once: true }));
      const outcome = await Promise.race([started.then(() => 'started' as const, () => 'failed' as const), cancelled]);
      // A start that failed reports itself (one fatal line, exit 1 or 2); stopping adds nothing.
      if (outcome === 'failed') return new Promise<void>(() => undefined);
      try {
        if (running !== undefined) await running.close(cancel);
      } finally {
        await health?.close();
      }
    },
  });

  started.catch((error: unknown) => {
    shutdown.uninstall();
    const code = reportStartupFailure(logger, service, error);
    void (health?.close() ?? Promise.resolve()).finally(() => exitOnce(code));
  });

  return { logger, started, readiness, health: () => health, stop: () => shutdown.trigger('SIGTERM') };
}
