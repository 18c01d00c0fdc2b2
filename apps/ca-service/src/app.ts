// The ca-service's wiring on top of @fsm-certs/runtime: secret store → provider (with the
// process's logger, so Vault and cert-manager log their requests, warnings and token renewals)
// → key-encryption key → the issue and rotate workers. Its shutdown cancels provider calls in
// flight early enough for the slowest of them to settle (and clean up) inside the budget.
import { loadOrCreateKek, startCaService } from '@fsm-certs/issuance';
import { createProvider, createSecretStore } from '@fsm-certs/providers';
import { cancelLeadFor, requireRedisUrl, type ServiceContext, type StartedService } from '@fsm-certs/runtime';

export async function startCaServiceApp(context: ServiceContext): Promise<StartedService> {
  const { config, logger } = context;
  const redisUrl = requireRedisUrl(config.redis.url, context.service);
  const store = createSecretStore(config);
  const provider = await createProvider(config, { store, logger: logger.child({ component: 'provider' }) });
  try {
    const cancelLeadMs = cancelLeadFor(provider.cancelSettleMs ?? 0, config.worker.shutdownTimeoutMs, `the ${provider.kind} provider`);
    const { kek, source } = await loadOrCreateKek({ configured: config.worker.keyEncryptionKey, store, namespace: config.namespace });
    logger.info({ provider: provider.kind, secretStore: store.kind, kekSource: source }, 'provider and key-encryption key loaded');
    const service = await startCaService({
      redisUrl,
      prefix: config.redis.prefix,
      provider,
      kek,
      instanceId: context.instanceId,
      logger,
      concurrency: config.worker.concurrency,
      lockDurationMs: config.worker.lockDurationMs,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      rotationTickMs: config.worker.rotationTickMs,
      auditRetentionMs: config.gateway.auditRetentionMs,
      recordFormat: config.worker.recordFormat,
    });
    return {
      readiness: service.readiness,
      cancelLeadMs,
      close(cancel) {
        cancel.addEventListener('abort', () => service.cancelInFlight('shutdown budget nearly spent'), { once: true });
        return service.close();
      },
    };
  } catch (error) {
    await provider.close().catch(() => undefined);
    throw error;
  }
}
