// FSM's documented `--set fsm.*` lines, given to `helm template`, must reach the apps: each app's
// rendered environment (Secrets resolved, $(VAR) expanded) is loaded with the apps' own
// loadConfig and the result is what the operator asked for. Bad values are refused by
// values.schema.json (or by the chart, for options that need each other) with a clear message.
import { loadConfig, type FsmConfig } from '@fsm-certs/config';
import { describe, expect, it } from 'vitest';
import { OPERATOR_SECRETS, FSM_VAULT_LINE } from './combinations.js';
import { render, renderError, type KubeObject, type SetValues } from './helm.js';
import { mainContainer, resolvedEnv, workload } from './manifests.js';

const NAMESPACE = 'fsm-system';

function appEnv(objects: readonly KubeObject[], app: string, kind: 'Deployment' | 'Job' = 'Deployment'): Record<string, string> {
  return resolvedEnv(objects, mainContainer(workload(objects, kind, `fsm-certs-${app}`)), NAMESPACE, OPERATOR_SECRETS);
}

function appConfig(set: SetValues, app: string): FsmConfig {
  return loadConfig({ env: appEnv(render({ set }), app) });
}

describe("FSM's install options reach the apps", () => {
  it("renders FSM's documented Vault line into a ca-service that runs Vault at vault.example with role fsm and token t", () => {
    const objects = render({ set: FSM_VAULT_LINE });
    const env = appEnv(objects, 'ca-service');
    const config = loadConfig({ env });
    expect(config.certificateProvider.kind).toBe('vault');
    expect(config.vault).toMatchObject({ host: 'vault.example', port: 8200, protocol: 'http', role: 'fsm', token: 't' });
    expect(config.namespace).toBe(NAMESPACE);
    expect(config.secretStore.kind).toBe('kubernetes');
    expect(config.caBundleSecretName).toBe('fsm-ca-bundle');
    // The token travels through a Secret, never as a literal in the Deployment.
    const tokenVar = mainContainer(workload(objects, 'Deployment', 'fsm-certs-ca-service')).env.find((v) => v.name === 'VAULT_TOKEN');
    expect(tokenVar?.value).toBeUndefined();
    expect(tokenVar?.valueFrom?.secretKeyRef?.name).toBe('fsm-certs-vault-token');
  });

  it('passes every fsm.vault option: port, protocol, and the token Secret name and key the ca-service reads itself', () => {
    const config = appConfig(
      {
        'fsm.certificateProvider.kind': 'vault',
        'fsm.vault.host': 'vault.contoso.com',
        'fsm.vault.port': '8443',
        'fsm.vault.protocol': 'https',
        'fsm.vault.role': 'mesh',
        'fsm.vault.secret.name': 'vault-token',
        'fsm.vault.secret.key': 'token',
      },
      'ca-service',
    );
    expect(config.vault).toMatchObject({ host: 'vault.contoso.com', port: 8443, protocol: 'https', role: 'mesh', secret: { name: 'vault-token', key: 'token' } });
    expect(config.vault.token).toBeUndefined();
  });

  it('renders the cert-manager options into the ca-service', () => {
    const config = appConfig(
      {
        'fsm.certificateProvider.kind': 'cert-manager',
        'fsm.certmanager.issuerName': 'mesh-root',
        'fsm.certmanager.issuerKind': 'ClusterIssuer',
        'fsm.certmanager.issuerGroup': 'cert-manager.io',
        'fsm.caBundleSecretName': 'my-secret-name',
      },
      'ca-service',
    );
    expect(config.certificateProvider.kind).toBe('cert-manager');
    expect(config.certmanager).toMatchObject({ issuerName: 'mesh-root', issuerKind: 'ClusterIssuer', issuerGroup: 'cert-manager.io' });
    expect(config.caBundleSecretName).toBe('my-secret-name');
  });

  it('runs Tresor by default with the CA bundle Secret fsm-ca-bundle in the release namespace, on the Kubernetes secret store', () => {
    const objects = render({ namespace: 'mesh-ctl', set: {} });
    const config = loadConfig({ env: resolvedEnv(objects, mainContainer(workload(objects, 'Deployment', 'fsm-certs-ca-service')), 'mesh-ctl') });
    expect(config.certificateProvider.kind).toBe('tresor');
    expect(config.certificateProvider.serviceCertValidityDuration).toBe('24h');
    expect(config.namespace).toBe('mesh-ctl');
    expect(config.caBundleSecretName).toBe('fsm-ca-bundle');
    expect(config.secretStore.kind).toBe('kubernetes');
    expect(config.redis.url).toMatch(/^redis:\/\/:[A-Za-z0-9]{32}@fsm-certs-redis\.mesh-ctl\.svc:6379$/);
  });

  it('gives the service-cert validity and the trust domain to the ca-service and the gateway, which both use them', () => {
    const set = { 'fsm.certificateProvider.serviceCertValidityDuration': '1h30m', 'fsm.trustDomain': 'mesh.example' };
    for (const app of ['ca-service', 'issuer-gateway']) {
      const config = appConfig(set, app);
      expect(config.certificateProvider.serviceCertValidityMs).toBe(90 * 60_000);
      expect(config.trustDomain).toBe('mesh.example');
    }
  });

  it('writes binary inventory records by default and compact or full ones with caService.inventoryRecordFormat, for a rolling upgrade', () => {
    expect(appConfig({}, 'ca-service').worker.recordFormat).toBe('binary');
    expect(appConfig({ 'caService.inventoryRecordFormat': 'compact' }, 'ca-service').worker.recordFormat).toBe('compact');
    expect(appConfig({ 'caService.inventoryRecordFormat': 'full' }, 'ca-service').worker.recordFormat).toBe('full');
  });

  it("accepts FSM's workstation spelling fsm.serviceCertValidityDuration=1.5h", () => {
    expect(appConfig({ 'fsm.serviceCertValidityDuration': '1.5h' }, 'ca-service').certificateProvider.serviceCertValidityMs).toBe(90 * 60_000);
  });

  it('refuses the two spellings of the validity when they disagree', () => {
    const error = renderError({ set: { 'fsm.serviceCertValidityDuration': '1h', 'fsm.certificateProvider.serviceCertValidityDuration': '2h' } });
    expect(error).toContain('fsm.serviceCertValidityDuration=1h and fsm.certificateProvider.serviceCertValidityDuration=2h disagree');
  });

  it('gives the gateway its admin token from a Secret, TLS on port 8443 and the Redis of the release', () => {
    const objects = render({ set: {} });
    const env = appEnv(objects, 'issuer-gateway');
    const config = loadConfig({ env });
    expect(config.gateway).toMatchObject({ host: '0.0.0.0', port: 8443, tls: true });
    expect(config.gateway.tokens.map((t) => t.name)).toEqual(['admin']);
    expect(env['GATEWAY_ADMIN_TOKEN']).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(config.redis.url).toBe(appEnv(objects, 'rotation-worker')['REDIS_URL']);
    expect(env['GATEWAY_SA_AUTH_ENABLED']).toBe('false');
    expect(env['GATEWAY_SA_AUTH_AUDIENCE']).toBe('fsm-certs');
  });

  it('hands configured gateway tokens over as GATEWAY_TOKENS that the gateway accepts', () => {
    const config = appConfig(
      { 'auth.tokens[0].name': 'ops', 'auth.tokens[0].token': 'an-operator-token-of-some-length', 'auth.tokens[0].scopes': '{issue,read}', 'auth.tokens[0].names': '{**.bookstore.cluster.local}' },
      'issuer-gateway',
    );
    expect(config.gateway.tokens.map((t) => [t.name, t.scopes, t.names])).toEqual([
      ['ops', ['issue', 'read'], ['**.bookstore.cluster.local']],
      ['admin', ['admin', 'issue', 'read'], ['*']],
    ]);
  });

  it('points every app at an existing Redis given as redis.url, through a Secret, with its key prefix', () => {
    // `--set` reads {a} as a list: braces are escaped on a command line (or given in a values file).
    const objects = render({ set: { 'redis.url': 'rediss://:s3cret@redis.example:6380', 'redis.prefix': '\\{mesh-a\\}' } });
    for (const app of ['ca-service', 'issuer-gateway', 'rotation-worker']) {
      const config = loadConfig({ env: appEnv(objects, app) });
      expect(config.redis).toEqual({ url: 'rediss://:s3cret@redis.example:6380', prefix: '{mesh-a}' });
    }
    expect(objects.some((o) => o.kind === 'StatefulSet')).toBe(false);
  });

  it("uses the operator's key-encryption key Secret as FSM_KEY_ENCRYPTION_KEY instead of the chart's", () => {
    const objects = render({ set: { 'keyEncryptionKey.existingSecret.name': 'my-kek', 'keyEncryptionKey.existingSecret.key': 'kek' } });
    expect(loadConfig({ env: appEnv(objects, 'ca-service') }).worker.keyEncryptionKey).toBe(OPERATOR_SECRETS['my-kek/kek']);
    expect(objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'fsm-certs-kek')).toBe(false);
  });

  it('creates the key-encryption key Secret fsm-certs-kek once (kept on uninstall) with 32 random bytes the apps read', () => {
    const kek = render({ set: {} }).find((o) => o.kind === 'Secret' && o.metadata.name === 'fsm-certs-kek');
    expect(kek?.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    const data = (kek as { data?: Record<string, string> } | undefined)?.data?.['kek'] ?? '';
    expect(Buffer.from(Buffer.from(data, 'base64').toString('utf8'), 'base64')).toHaveLength(32);
  });
});

describe('values the chart refuses, with a message naming the option', () => {
  const refused: ReadonlyArray<readonly [string, SetValues, string]> = [
    ['an ACME-like provider kind', { 'fsm.certificateProvider.kind': 'acme' }, "at '/fsm/certificateProvider/kind': value must be one of 'tresor', 'vault', 'cert-manager'"],
    ['a validity that is not a Go duration', { 'fsm.certificateProvider.serviceCertValidityDuration': '1day' }, "at '/fsm/certificateProvider/serviceCertValidityDuration'"],
    ['a Vault protocol other than http or https', { 'fsm.vault.protocol': 'ftp' }, "at '/fsm/vault/protocol': value must be one of 'http', 'https'"],
    ['a Vault port out of range', { 'fsm.vault.port': '70000' }, "at '/fsm/vault/port'"],
    ['an issuer kind cert-manager does not have', { 'fsm.certmanager.issuerKind': 'Certificate' }, "at '/fsm/certmanager/issuerKind': value must be one of 'Issuer', 'ClusterIssuer'"],
    ['a CA bundle Secret name Kubernetes refuses', { 'fsm.caBundleSecretName': 'My_Bundle' }, "at '/fsm/caBundleSecretName'"],
    ['an inventory record format the ca-service does not write', { 'caService.inventoryRecordFormat': 'v2' }, "at '/caService/inventoryRecordFormat'"],
    ['a misspelt option', { 'fsm.vault.hots': 'vault.example' }, "at '/fsm/vault': additional properties 'hots' not allowed"],
    ['a Redis key prefix without a hash tag', { 'redis.prefix': 'fsm-certs' }, "at '/redis/prefix'"],
    ['a Redis URL that is not redis:// or rediss://', { 'redis.url': 'http://redis:6379' }, "at '/redis/url'"],
    ['Vault without a host', { 'fsm.certificateProvider.kind': 'vault', 'fsm.vault.token': 't' }, 'fsm.vault.host is required with fsm.certificateProvider.kind=vault'],
    ['Vault without a token or token Secret', { 'fsm.certificateProvider.kind': 'vault', 'fsm.vault.host': 'vault.example' }, 'needs a Vault token: set fsm.vault.token, or both fsm.vault.secret.name and fsm.vault.secret.key'],
    ['the Vault bootstrap with another provider', { 'vaultBootstrap.enabled': 'true' }, 'vaultBootstrap.enabled=true only applies with fsm.certificateProvider.kind=vault'],
  ];
  for (const [what, set, message] of refused) {
    it(`refuses ${what}`, () => {
      expect(renderError({ set })).toContain(message);
    });
  }
});
