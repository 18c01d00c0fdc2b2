// ca-service: the only process with signing power. Composition root — load config, build the
// provider and the key-encryption key, start consuming the issue and rotate queues, and stop
// gracefully on SIGTERM/SIGINT (in-flight jobs finish, exit 0).
import { loadConfig, type FsmConfig } from '@fsm-certs/config';
import {
  createLogger,
  installShutdownHandlers,
  instanceId,
  loadOrCreateKek,
  logLevelFromEnv,
  reportStartupFailure,
  requireRedisUrl,
  startCaService,
  type CaService,
} from '@fsm-certs/issuance';
import { createProvider, createSecretStore, type CertificateProvider } from '@fsm-certs/providers';

const SERVICE = 'ca-service';
const logger = createLogger({ service: SERVICE, level: logLevelFromEnv(process.env) });

let provider: CertificateProvider | undefined;
let service: CaService | undefined;

let config: FsmConfig;
try {
  config = loadConfig();
} catch (error) {
  process.exit(reportStartupFailure(logger, SERVICE, error));
}

const started = (async () => {
  const redisUrl = requireRedisUrl(config.redis.url, SERVICE);
  const store = createSecretStore(config);
  provider = await createProvider(config, { store, logger });
  const { kek, source } = await loadOrCreateKek({ configured: config.worker.keyEncryptionKey, store, namespace: config.namespace });
  logger.info({ provider: provider.kind, secretStore: store.kind, kekSource: source }, 'provider and key-encryption key loaded');
  service = await startCaService({
    redisUrl,
    prefix: config.redis.prefix,
    provider,
    kek,
    instanceId: instanceId(SERVICE),
    logger,
    concurrency: config.worker.concurrency,
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
    rotationTickMs: config.worker.rotationTickMs,
  });
})();

installShutdownHandlers({
  logger,
  timeoutMs: config.worker.shutdownTimeoutMs,
  close: async () => {
    // A signal during start-up waits for it, so nothing half-started is left behind.
    await started.catch(() => undefined);
    if (service !== undefined) await service.close();
    else await provider?.close();
  },
});

started.catch((error: unknown) => {
  const code = reportStartupFailure(logger, SERVICE, error);
  void provider?.close().catch(() => undefined);
  process.exit(code);
});
