// rotation-worker: sweeps the renew-time index on a shared BullMQ schedule and enqueues
// rotations (deduplicated per name and serial). Holds no signing power. Composition root only.
import { loadConfig, type FsmConfig } from '@fsm-certs/config';
import {
  createLogger,
  installShutdownHandlers,
  instanceId,
  logLevelFromEnv,
  reportStartupFailure,
  requireRedisUrl,
  startRotationWorker,
  type RotationWorker,
} from '@fsm-certs/issuance';

const SERVICE = 'rotation-worker';
const logger = createLogger({ service: SERVICE, level: logLevelFromEnv(process.env) });

let worker: RotationWorker | undefined;

let config: FsmConfig;
try {
  config = loadConfig();
} catch (error) {
  process.exit(reportStartupFailure(logger, SERVICE, error));
}

const started = (async () => {
  worker = await startRotationWorker({
    redisUrl: requireRedisUrl(config.redis.url, SERVICE),
    prefix: config.redis.prefix,
    instanceId: instanceId(SERVICE),
    logger,
    intervalMs: config.worker.sweepIntervalMs,
    limit: config.worker.sweepLimit,
  });
})();

installShutdownHandlers({
  logger,
  timeoutMs: config.worker.shutdownTimeoutMs,
  close: async () => {
    await started.catch(() => undefined);
    await worker?.close();
  },
});

started.catch((error: unknown) => {
  process.exit(reportStartupFailure(logger, SERVICE, error));
});
