// The gateway's wait and cert-manager's wait, composed from one configuration exactly as the
// services compose them (config -> provider + ca-service, config -> gateway), with a real Redis.
// A certificate cert-manager signs after the gateway's old 30 s but before its own timeout must
// reach the caller as 201, never as a 504 while it lands in the inventory.
//
// Time is injected: setTimeout is faked (advancing with real time, so everything else runs as
// usual) and the test jumps 31 s while the CertificateRequest waits. The wait is an issuer whose
// CA key pair Secret does not exist yet; creating it lets cert-manager sign. That works the same
// on the emulator and on a real cluster (KUBECONFIG set: the namespace CERT_MANAGER_TEST_NAMESPACE
// or a fresh one, cleaned up afterwards).
import { randomBytes } from 'node:crypto';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '@fsm-certs/config';
import { startIssuerGateway, type IssuerGateway } from '@fsm-certs/gateway';
import { loadOrCreateKek, startCaService, type CaService } from '@fsm-certs/issuance';
import { createLogger } from '@fsm-certs/runtime';
import {
  KubernetesCertManagerClient,
  KubernetesSecretStore,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  createProvider,
  loadKubeConfig,
  type CertificateProvider,
} from '@fsm-certs/providers';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { CertManagerEmulator, KubernetesEmulator, eventually, opensslVerify } from '@fsm-certs/testing';
import { createRootCa } from '@fsm-certs/x509';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appOptions } from './options.js';

interface Target {
  readonly kind: 'kubeconfig' | 'emulator';
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  close(): Promise<void>;
}

const suffix = randomBytes(3).toString('hex');

async function selectTarget(): Promise<Target> {
  const kubeconfig = process.env['KUBECONFIG'];
  if (kubeconfig !== undefined && kubeconfig !== '') {
    const kubeConfig = loadKubeConfig({ kubeconfig });
    const given = process.env['CERT_MANAGER_TEST_NAMESPACE'];
    const namespace = given ?? `fsm-certs-timeout-${suffix}`;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    if (given === undefined) await core.createNamespace({ body: { metadata: { name: namespace } } });
    return {
      kind: 'kubeconfig',
      kubeConfig,
      namespace,
      close: async () => {
        if (given === undefined) await core.deleteNamespace({ name: namespace });
      },
    };
  }
  const kube = await KubernetesEmulator.start();
  const certManager = CertManagerEmulator.install(kube);
  return {
    kind: 'emulator',
    kubeConfig: kube.kubeConfig(),
    namespace: 'fsm-system',
    close: async () => {
      certManager.stop();
      await kube.close();
    },
  };
}

const target = await selectTarget();
console.log(`[cert-manager timeouts] target: ${target.kind}`);

describe(`an issue cert-manager signs after 30 s (target: ${target.kind})`, () => {
  const issuerName = `fsm-late-${suffix}`;
  const keyPair = { namespace: target.namespace, name: `${issuerName}-key-pair` };
  const bundle = { namespace: target.namespace, name: `fsm-late-bundle-${suffix}` };
  const adminToken = randomBytes(24).toString('base64url');
  const ca = createRootCa({ commonName: `fsm-certs late CA ${suffix}` });
  const secrets = new KubernetesSecretStore({ kubeConfig: target.kubeConfig });
  const custom = target.kubeConfig.makeApiClient(CustomObjectsApi);
  const logger = createLogger({ service: 'timeout-test', level: 'warn' });
  const db = usePrivateRedis();
  let provider: CertificateProvider | undefined;
  let caService: CaService | undefined;
  let gateway: IssuerGateway | undefined;
  let config: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    await secrets.create(bundle, { 'ca.crt': Buffer.from(ca.certificatePem) });
    await custom.createNamespacedCustomObject({
      group: 'cert-manager.io',
      version: 'v1',
      namespace: target.namespace,
      plural: 'issuers',
      body: { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: issuerName }, spec: { ca: { secretName: keyPair.name } } },
    });
    // What an operator sets: only the provider's settings; the gateway's wait is not given.
    config = loadConfig({
      env: {
        CERT_MANAGER: 'cert-manager',
        FSM_NAMESPACE: target.namespace,
        CERTMANAGER_ISSUER_NAME: issuerName,
        FSM_CA_BUNDLE_SECRET_NAME: bundle.name,
        FSM_SECRET_STORE: 'kubernetes',
        FSM_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        REDIS_URL: db.url,
        GATEWAY_PORT: '0',
        GATEWAY_ADMIN_TOKEN: adminToken,
      },
      serviceAccountTokenFile: '/nonexistent/token',
    });
    provider = await createProvider(config, { kubeConfig: target.kubeConfig, store: secrets });
    const { kek } = await loadOrCreateKek({ configured: config.worker.keyEncryptionKey, namespace: config.namespace });
    const redisUrl = config.redis.url ?? db.url;
    caService = await startCaService({ redisUrl, prefix: config.redis.prefix, provider, kek, instanceId: `ca-${suffix}`, logger });
    gateway = await startIssuerGateway({
      redisUrl,
      prefix: config.redis.prefix,
      host: '127.0.0.1',
      port: config.gateway.port,
      tls: false,
      namespace: config.namespace,
      app: appOptions(config),
      kek,
      logger,
    });
  }, 60_000);

  afterAll(async () => {
    vi.useRealTimers();
    await gateway?.close();
    if (caService !== undefined) await caService.close();
    else await provider?.close();
    await custom.deleteNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', namespace: target.namespace, plural: 'issuers', name: issuerName }).catch(() => undefined);
    await secrets.delete(keyPair).catch(() => undefined);
    await secrets.delete(bundle).catch(() => undefined);
    await target.close();
  });

  it('is answered 201 with the certificate, not 504', async () => {
    const client = new KubernetesCertManagerClient(target.kubeConfig);
    const ours = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    const answer = fetch(`${gateway?.url ?? ''}/v1/certificates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ commonName: 'late.bookstore.cluster.local' }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as Record<string, unknown> }));
    await eventually(async () => ((await client.listCertificateRequests(target.namespace, ours)).length > 0 ? true : undefined), 30_000, 'the CertificateRequest');
    // 31 s pass while the request waits for its issuer: past the gateway's former 30 s.
    await vi.advanceTimersByTimeAsync(31_000);
    await secrets.create(keyPair, { 'tls.crt': Buffer.from(ca.certificatePem), 'tls.key': Buffer.from(ca.privateKeyPem) });
    const { status, body } = await answer;
    expect({ status, code: body['code'] }).toEqual({ status: 201, code: undefined });
    expect(opensslVerify(String(body['certificate']), ca.certificatePem).output).toMatch(/: OK/);
    await eventually(async () => ((await client.listCertificateRequests(target.namespace, ours)).length === 0 ? true : undefined), 30_000, 'the request to be deleted');
  });
});
