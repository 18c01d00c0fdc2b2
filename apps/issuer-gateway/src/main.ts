// issuer-gateway composition root: config -> KEK -> startIssuerGateway -> wait for SIGTERM/SIGINT.
import { loadConfig } from '@fsm-certs/config';
import { startIssuerGateway } from '@fsm-certs/gateway';
import { createLogger, installShutdownHandlers, instanceId, loadOrCreateKek, logLevelFromEnv } from '@fsm-certs/issuance';
import { KubernetesTokenReviewer, createSecretStore, loadKubeConfig } from '@fsm-certs/providers';
import { appOptions, configuredKek, serviceAccountAuthOptions } from './options.js';

const SERVICE = 'issuer-gateway';

async function main(): Promise<void> {
  const logger = createLogger({ service: SERVICE, level: logLevelFromEnv(process.env) });
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    // One line naming the key, value and what is allowed (ConfigError's message), then stop.
    process.stderr.write(`${SERVICE}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const gateway = config.gateway;
  const redisUrl = config.redis.url;
  if (redisUrl === undefined) {
    process.stderr.write(`${SERVICE}: REDIS_URL is not set; point it at Redis (>= 6.2), or run everything with \`npm start\`.\n`);
    process.exit(1);
  }
  if (gateway.tokens.length === 0) logger.warn('no tokens configured (GATEWAY_TOKENS / GATEWAY_ADMIN_TOKEN): every authenticated route will answer 401');

  const { kek, source } = await loadOrCreateKek({
    configured: configuredKek(config),
    store: createSecretStore(config),
    namespace: config.namespace,
  });
  logger.info({ source }, 'key-encryption key loaded');

  const id = instanceId(SERVICE);
  const service = await startIssuerGateway({
    redisUrl,
    prefix: config.redis.prefix,
    host: gateway.host,
    port: gateway.port,
    tls: gateway.tls,
    namespace: config.namespace,
    app: appOptions(config),
    kek,
    logger,
    instanceId: id,
    auditRetentionMs: gateway.auditRetentionMs,
    ...(gateway.serviceAccountAuth.enabled
      ? { serviceAccounts: { reviewer: new KubernetesTokenReviewer(loadKubeConfig(config)), options: serviceAccountAuthOptions(config) } }
      : {}),
  });
  logger.info(
    { url: service.url, instanceId: id, tokens: gateway.tokens.map((t) => t.name), serviceAccountAudience: gateway.serviceAccountAuth.enabled ? gateway.serviceAccountAuth.audience : null },
    'issuer-gateway ready for requests',
  );
  // A parent that started us with an IPC channel (`npm start`) learns that this process holds
  // the port, whatever the log level; without one (containers) process.send is undefined.
  process.send?.({ type: 'ready', service: SERVICE, url: service.url, pid: process.pid });
  installShutdownHandlers({ logger, close: () => service.close(), timeoutMs: 25_000 });
}

main().catch((error: unknown) => {
  process.stderr.write(`${SERVICE}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
