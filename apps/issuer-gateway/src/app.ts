// The issuer-gateway's wiring on top of @fsm-certs/runtime: key-encryption key → the HTTP API
// (which serves /healthz, /readyz and /metrics on its own port, from the process's registry).
import { startIssuerGateway } from '@fsm-certs/gateway';
import { loadOrCreateKek } from '@fsm-certs/issuance';
import { KubernetesTokenReviewer, createSecretStore, loadKubeConfig } from '@fsm-certs/providers';
import { CLOSE_RESERVE_MS, requireRedisUrl, type ServiceContext, type StartedService } from '@fsm-certs/runtime';
import { appOptions, configuredKek, serviceAccountAuthOptions } from './options.js';

export async function startGatewayApp(context: ServiceContext): Promise<StartedService> {
  const { config, logger } = context;
  const { gateway } = config;
  const redisUrl = requireRedisUrl(config.redis.url, context.service);
  if (gateway.tokens.length === 0) logger.warn('no tokens configured (GATEWAY_TOKENS / GATEWAY_ADMIN_TOKEN): every authenticated route will answer 401');
  const { kek, source } = await loadOrCreateKek({ configured: configuredKek(config), store: createSecretStore(config), namespace: config.namespace });
  logger.info({ source }, 'key-encryption key loaded');
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
    instanceId: context.instanceId,
    registry: context.registry,
    auditRetentionMs: gateway.auditRetentionMs,
    ...(gateway.serviceAccountAuth.enabled
      ? { serviceAccounts: { reviewer: new KubernetesTokenReviewer(loadKubeConfig(config)), options: serviceAccountAuthOptions(config) } }
      : {}),
  });
  logger.info(
    {
      url: service.url,
      instanceId: context.instanceId,
      tokens: gateway.tokens.map((t) => t.name),
      serviceAccountAudience: gateway.serviceAccountAuth.enabled ? gateway.serviceAccountAuth.audience : null,
    },
    'issuer-gateway ready for requests',
  );
  // A parent that started us with an IPC channel (`npm start`) learns that this process holds
  // the port, whatever the log level; without one (containers) process.send is undefined.
  process.send?.({ type: 'ready', service: context.service, url: service.url, pid: process.pid });
  // Requests in flight are answered until the budget is nearly spent; then connections are cut
  // (their jobs stay queued and are issued all the same).
  return { readiness: service.readiness, cancelLeadMs: CLOSE_RESERVE_MS, close: (cancel) => service.close(cancel) };
}
