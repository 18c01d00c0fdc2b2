// The rotation-worker's wiring on top of @fsm-certs/runtime: the shared sweep schedule and its
// worker. Holds no signing power; a sweep in hand is Redis work and finishes within the budget.
import { startRotationWorker } from '@fsm-certs/issuance';
import { requireRedisUrl, type ServiceContext, type StartedService } from '@fsm-certs/runtime';

export async function startRotationWorkerApp(context: ServiceContext): Promise<StartedService> {
  const { config, logger } = context;
  const worker = await startRotationWorker({
    redisUrl: requireRedisUrl(config.redis.url, context.service),
    prefix: config.redis.prefix,
    instanceId: context.instanceId,
    logger,
    intervalMs: config.worker.sweepIntervalMs,
    limit: config.worker.sweepLimit,
  });
  return { readiness: worker.readiness, close: () => worker.close() };
}
