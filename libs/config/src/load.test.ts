import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.js';

function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-config-'));
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

function configError(env: NodeJS.ProcessEnv, file?: string): ConfigError {
  try {
    loadConfig({ env, ...(file === undefined ? {} : { file }) });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig defaults', () => {
  it("gives FSM's defaults with an empty environment", () => {
    const config = loadConfig({ env: {}, serviceAccountTokenFile: path.join(tmpdir(), 'no-such-dir', 'token') });
    expect(config).toMatchObject({
      namespace: 'fsm-system',
      trustDomain: 'cluster.local',
      caBundleSecretName: 'fsm-ca-bundle',
      certificateProvider: {
        kind: 'tresor',
        serviceCertValidityDuration: '24h',
        serviceCertValidityMs: 86_400_000,
        keyAlgorithm: 'ecdsa-p256',
        rootValidityDuration: '87600h',
        rootValidityMs: 87_600 * 3_600_000,
      },
      vault: { port: 8200, protocol: 'http', role: 'fsm', mountPath: 'pki', secret: {} },
      certmanager: { issuerName: 'fsm-ca', issuerKind: 'Issuer', issuerGroup: 'cert-manager.io', timeout: '60s', timeoutMs: 60_000 },
      secretStore: { kind: 'file', dataDir: '.data' },
      redis: { prefix: '{fsm-certs}' },
      health: { host: '127.0.0.1', port: 9090 },
    });
    expect(config.redis.url).toBeUndefined();
    expect(config.vault.token).toBeUndefined();
  });
});

describe('the secret store follows the environment unless FSM_SECRET_STORE says otherwise', () => {
  const noPod = path.join(tmpdir(), 'no-such-dir', 'token');
  const podToken = tempFile('token', 'eyJhbGciOi...');

  it.each([
    ['a developer machine without KUBECONFIG keeps the file store', {}, noPod, 'file'],
    ['KUBECONFIG set selects Kubernetes Secrets', { KUBECONFIG: '/etc/fsm/kubeconfig' }, noPod, 'kubernetes'],
    ['a list KUBECONFIG=a:b counts as set', { KUBECONFIG: `/a${path.delimiter}/b` }, noPod, 'kubernetes'],
    ["a pod's service-account token selects Kubernetes Secrets", {}, podToken, 'kubernetes'],
    ['an empty KUBECONFIG is unset', { KUBECONFIG: '' }, noPod, 'file'],
    ['FSM_SECRET_STORE=file wins over KUBECONFIG', { KUBECONFIG: '/etc/fsm/kubeconfig', FSM_SECRET_STORE: 'file' }, noPod, 'file'],
    ['FSM_SECRET_STORE=file wins in a pod', { FSM_SECRET_STORE: 'file' }, podToken, 'file'],
    ['FSM_SECRET_STORE=kubernetes works without a cluster hint', { FSM_SECRET_STORE: 'kubernetes' }, noPod, 'kubernetes'],
  ] as const)('%s', (_name, env, serviceAccountTokenFile, kind) => {
    expect(loadConfig({ env, serviceAccountTokenFile }).secretStore.kind).toBe(kind);
  });

  it('takes kubeconfig from the config file into account', () => {
    const file = tempFile('fsm.yaml', 'kubeconfig: /etc/fsm/kubeconfig\n');
    expect(loadConfig({ env: {}, file, serviceAccountTokenFile: noPod }).secretStore.kind).toBe('kubernetes');
  });
});

describe("the gateway's batch pipeline depth follows the provider unless given", () => {
  it.each([
    ['Tresor: 2 jobs in flight', {}, 2],
    ['cert-manager: 2', { CERT_MANAGER: 'cert-manager' }, 2],
    ['Vault: 1 (its ca-service only waits for Vault)', { CERT_MANAGER: 'vault', VAULT_HOST: 'vault', VAULT_TOKEN: 't' }, 1],
    ['an explicit GATEWAY_BATCH_PIPELINE_DEPTH wins with Vault', { CERT_MANAGER: 'vault', VAULT_HOST: 'vault', VAULT_TOKEN: 't', GATEWAY_BATCH_PIPELINE_DEPTH: '3' }, 3],
  ] as const)('%s', (_name, env, depth) => {
    expect(loadConfig({ env }).gateway.batchPipelineDepth).toBe(depth);
  });
});

describe("the gateway's issue timeout outlasts the provider's own wait", () => {
  it.each([
    ['Tresor keeps 30s', {}, 30_000],
    ['Vault keeps 30s', { CERT_MANAGER: 'vault', VAULT_HOST: 'vault', VAULT_TOKEN: 't' }, 30_000],
    ['cert-manager: its 60s wait plus 15s', { CERT_MANAGER: 'cert-manager' }, 75_000],
    ['cert-manager with CERTMANAGER_TIMEOUT=2m: 2m15s', { CERT_MANAGER: 'cert-manager', CERTMANAGER_TIMEOUT: '2m' }, 135_000],
    ['cert-manager with a short wait still gets at least 30s', { CERT_MANAGER: 'cert-manager', CERTMANAGER_TIMEOUT: '5s' }, 30_000],
    ['an explicit GATEWAY_ISSUE_TIMEOUT long enough is kept', { CERT_MANAGER: 'cert-manager', GATEWAY_ISSUE_TIMEOUT: '90s' }, 90_000],
    ['an explicit GATEWAY_ISSUE_TIMEOUT is free with Tresor', { GATEWAY_ISSUE_TIMEOUT: '5s' }, 5_000],
  ] as const)('%s', (_name, env, expectedMs) => {
    const { gateway } = loadConfig({ env });
    expect(gateway.issueTimeoutMs).toBe(expectedMs);
  });

  it('reports the derived value in Go syntax', () => {
    expect(loadConfig({ env: { CERT_MANAGER: 'cert-manager' } }).gateway.issueTimeout).toBe('1m15s');
  });

  it('refuses a GATEWAY_ISSUE_TIMEOUT shorter than the cert-manager wait, naming both settings', () => {
    expect(configError({ CERT_MANAGER: 'cert-manager', GATEWAY_ISSUE_TIMEOUT: '30s' }).message).toBe(
      'Invalid configuration: gateway.issueTimeout="30s" (env GATEWAY_ISSUE_TIMEOUT): allowed: at least certmanager.timeout (CERTMANAGER_TIMEOUT=1m0s) + 15s = 1m15s, so a certificate cert-manager signs in time is never a 504; unset it to derive it, or lower CERTMANAGER_TIMEOUT',
    );
  });
});

describe('loadConfig environment names', () => {
  it('reads every documented variable', () => {
    const config = loadConfig({
      env: {
        FSM_NAMESPACE: 'mesh',
        FSM_TRUST_DOMAIN: 'example.org',
        FSM_CA_BUNDLE_SECRET_NAME: 'my-ca',
        CERT_MANAGER: 'vault',
        FSM_SERVICE_CERT_VALIDITY: '1h30m',
        VAULT_HOST: 'vault.mesh.svc',
        VAULT_PORT: '8300',
        VAULT_PROTOCOL: 'https',
        VAULT_ROLE: 'mesh',
        VAULT_TOKEN: 'xyz',
        VAULT_CACERT: '/etc/vault/ca.pem',
        CERTMANAGER_ISSUER_NAME: 'mesh-ca',
        FSM_SECRET_STORE: 'kubernetes',
        FSM_DATA_DIR: '/var/lib/fsm',
        KUBECONFIG: '/root/.kube/config',
        REDIS_URL: 'redis://127.0.0.1:6380',
        FSM_REDIS_PREFIX: '{mesh}',
        HEALTH_HOST: '0.0.0.0',
        HEALTH_PORT: '0',
      },
    });
    expect(config.namespace).toBe('mesh');
    expect(config.trustDomain).toBe('example.org');
    expect(config.caBundleSecretName).toBe('my-ca');
    expect(config.certificateProvider.kind).toBe('vault');
    expect(config.certificateProvider.serviceCertValidityMs).toBe(5_400_000);
    expect(config.vault).toMatchObject({ host: 'vault.mesh.svc', port: 8300, protocol: 'https', role: 'mesh', token: 'xyz', caFile: '/etc/vault/ca.pem' });
    expect(config.certmanager.issuerName).toBe('mesh-ca');
    expect(config.secretStore).toEqual({ kind: 'kubernetes', dataDir: '/var/lib/fsm' });
    expect(config.kubeconfig).toBe('/root/.kube/config');
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6380', prefix: '{mesh}' });
    expect(config.health).toEqual({ host: '0.0.0.0', port: 0 });
  });

  it("accepts FSM's development name K8S_NAMESPACE, with FSM_NAMESPACE winning when both are set", () => {
    expect(loadConfig({ env: { K8S_NAMESPACE: 'fsm-system-ns' } }).namespace).toBe('fsm-system-ns');
    expect(loadConfig({ env: { K8S_NAMESPACE: 'a', FSM_NAMESPACE: 'b' } }).namespace).toBe('b');
  });

  it('fills protocol, host and port from VAULT_ADDR, with the specific variables winning', () => {
    const config = loadConfig({ env: { CERT_MANAGER: 'vault', VAULT_TOKEN: 't', VAULT_ADDR: 'https://127.0.0.1:8201' } });
    expect(config.vault).toMatchObject({ protocol: 'https', host: '127.0.0.1', port: 8201 });
    const overridden = loadConfig({ env: { CERT_MANAGER: 'vault', VAULT_TOKEN: 't', VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_HOST: 'vault.svc' } });
    expect(overridden.vault.host).toBe('vault.svc');
  });

  it('accepts the Vault token from a Kubernetes secret instead of VAULT_TOKEN', () => {
    const config = loadConfig({ env: { CERT_MANAGER: 'vault', VAULT_HOST: 'v', VAULT_TOKEN_SECRET_NAME: 'vault-token', VAULT_TOKEN_SECRET_KEY: 'token' } });
    expect(config.vault.secret).toEqual({ name: 'vault-token', key: 'token' });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ env: { CERT_MANAGER: '', FSM_NAMESPACE: '' } }).certificateProvider.kind).toBe('tresor');
  });
});

describe('loadConfig durations', () => {
  it.each([
    ['FSM_SERVICE_CERT_VALIDITY', '1.1h', (c: ReturnType<typeof loadConfig>) => c.certificateProvider.serviceCertValidityMs, 3_960_000],
    ['FSM_ROOT_VALIDITY', '87600.5h', (c: ReturnType<typeof loadConfig>) => c.certificateProvider.rootValidityMs, 87_600.5 * 3_600_000],
    ['GATEWAY_ISSUE_TIMEOUT', '2.2s', (c: ReturnType<typeof loadConfig>) => c.gateway.issueTimeoutMs, 2_200],
    ['CA_SERVICE_LOCK_DURATION', '10.0004s', (c: ReturnType<typeof loadConfig>) => c.worker.lockDurationMs, 10_000],
    ['CERTMANAGER_TIMEOUT', '1.1m', (c: ReturnType<typeof loadConfig>) => c.certmanager.timeoutMs, 66_000],
  ])('reads %s=%s as exact whole milliseconds', (env, value, pick, expected) => {
    const ms = pick(loadConfig({ env: { [env]: value } }));
    expect(ms).toBe(expected);
    expect(Number.isInteger(ms)).toBe(true);
  });

  it('writes binary inventory records unless INVENTORY_RECORD_FORMAT says compact or full, and refuses any other value', () => {
    expect(loadConfig({ env: {} }).worker.recordFormat).toBe('binary');
    expect(loadConfig({ env: { INVENTORY_RECORD_FORMAT: 'compact' } }).worker.recordFormat).toBe('compact');
    expect(loadConfig({ env: { INVENTORY_RECORD_FORMAT: 'full' } }).worker.recordFormat).toBe('full');
    expect(configError({ INVENTORY_RECORD_FORMAT: 'v1' }).message).toMatch(/INVENTORY_RECORD_FORMAT.*binary\|compact\|full/);
  });

  it('refuses a lock duration above 10m on one line', () => {
    expect(configError({ CA_SERVICE_LOCK_DURATION: '10m1s' }).message).toMatch(/CA_SERVICE_LOCK_DURATION.*between 2s and 10m/);
  });
});

describe('loadConfig file and precedence', () => {
  it('reads YAML, and the environment overrides the file', () => {
    const file = tempFile(
      'fsm.yaml',
      'namespace: from-file\ntrustDomain: file.local\ncertificateProvider:\n  kind: cert-manager\n  serviceCertValidityDuration: 12h\ncertmanager:\n  issuerKind: ClusterIssuer\n',
    );
    const config = loadConfig({ env: { FSM_NAMESPACE: 'from-env' }, file });
    expect(config.namespace).toBe('from-env');
    expect(config.trustDomain).toBe('file.local');
    expect(config.certificateProvider.kind).toBe('cert-manager');
    expect(config.certificateProvider.serviceCertValidityMs).toBe(12 * 3_600_000);
    expect(config.certmanager.issuerKind).toBe('ClusterIssuer');
  });

  it('reads JSON named by FSM_CONFIG_FILE, also Helm-style under fsm:', () => {
    const file = tempFile('fsm.json', JSON.stringify({ fsm: { caBundleSecretName: 'json-ca', vault: { port: 9200 } } }));
    const config = loadConfig({ env: { FSM_CONFIG_FILE: file } });
    expect(config.caBundleSecretName).toBe('json-ca');
    expect(config.vault.port).toBe(9200);
  });

  it('names a missing file and a malformed file in one line', () => {
    const missing = configError({ FSM_CONFIG_FILE: '/nonexistent/fsm.yaml' });
    expect(missing.code).toBe('CONFIG_FILE_INVALID');
    expect(missing.message).toBe('Cannot read config file /nonexistent/fsm.yaml (FSM_CONFIG_FILE): ENOENT; fix the path or unset it.');
    const malformed = configError({}, tempFile('bad.yaml', 'namespace: [unclosed\n'));
    expect(malformed.message).toMatch(/^Config file .*bad\.yaml is not valid YAML or JSON: /);
    expect(malformed.message).not.toContain('\n');
  });
});

describe('loadConfig rejects bad values with one line naming key, value and what is allowed', () => {
  const cases: Array<{ name: string; env: NodeJS.ProcessEnv; expected: string }> = [
    {
      name: 'an unknown provider kind',
      env: { CERT_MANAGER: 'acme' },
      expected: 'Invalid configuration: certificateProvider.kind="acme" (env CERT_MANAGER): allowed: one of tresor|vault|cert-manager',
    },
    {
      name: 'a garbage service cert validity',
      env: { FSM_SERVICE_CERT_VALIDITY: '1 day' },
      expected: 'Invalid configuration: certificateProvider.serviceCertValidityDuration="1 day" (env FSM_SERVICE_CERT_VALIDITY): allowed: a Go duration of at least 10m, e.g. 24h, 1h30m or 1.5h',
    },
    {
      name: 'a service cert validity under ten minutes',
      env: { FSM_SERVICE_CERT_VALIDITY: '5m' },
      expected: 'Invalid configuration: certificateProvider.serviceCertValidityDuration="5m" (env FSM_SERVICE_CERT_VALIDITY): allowed: a Go duration of at least 10m, e.g. 24h, 1h30m or 1.5h',
    },
    {
      name: 'a Vault port that is not a port',
      env: { VAULT_PORT: '99999' },
      expected: 'Invalid configuration: vault.port="99999" (env VAULT_PORT): allowed: a TCP port number 1-65535',
    },
    {
      name: 'a Vault protocol other than http/https',
      env: { VAULT_PROTOCOL: 'ftp' },
      expected: 'Invalid configuration: vault.protocol="ftp" (env VAULT_PROTOCOL): allowed: one of http|https',
    },
    {
      name: 'an issuer kind that cert-manager does not have',
      env: { CERTMANAGER_ISSUER_KIND: 'AcmeIssuer' },
      expected: 'Invalid configuration: certmanager.issuerKind="AcmeIssuer" (env CERTMANAGER_ISSUER_KIND): allowed: one of Issuer|ClusterIssuer',
    },
    {
      name: 'a namespace Kubernetes would refuse',
      env: { K8S_NAMESPACE: 'FSM_System' },
      expected:
        'Invalid configuration: namespace="FSM_System" (env K8S_NAMESPACE): allowed: a Kubernetes namespace name (lower-case letters, digits and "-", at most 63 characters)',
    },
    {
      name: 'a secret store kind we do not have',
      env: { FSM_SECRET_STORE: 'etcd' },
      expected: 'Invalid configuration: secretStore.kind="etcd" (env FSM_SECRET_STORE): allowed: one of file|kubernetes',
    },
    {
      name: 'a Redis prefix without a hash tag',
      env: { FSM_REDIS_PREFIX: 'fsm' },
      expected: 'Invalid configuration: redis.prefix="fsm" (env FSM_REDIS_PREFIX): allowed: a key prefix containing a Redis Cluster hash tag, e.g. {fsm-certs}',
    },
    {
      name: 'a health port that is not a port',
      env: { HEALTH_PORT: '70000' },
      expected: 'Invalid configuration: health.port="70000" (env HEALTH_PORT): allowed: TCP port 0-65535 (0 = any free port)',
    },
    {
      name: 'vault without a token or a token secret, naming both options',
      env: { CERT_MANAGER: 'vault', VAULT_HOST: 'vault' },
      expected:
        'Invalid configuration: vault.token=(unset): allowed: required when certificateProvider.kind is vault: set vault.token (VAULT_TOKEN), or both vault.secret.name and vault.secret.key (VAULT_TOKEN_SECRET_NAME / VAULT_TOKEN_SECRET_KEY)',
    },
  ];
  it.each(cases)('$name', ({ env, expected }) => {
    const error = configError(env);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.httpStatus).toBe(500);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(expected);
  });

  it('never prints a secret value: a bad Redis URL is redacted', () => {
    const error = configError({ REDIS_URL: 'http://user:hunter2@host' });
    expect(error.message).toBe('Invalid configuration: redis.url="<redacted>" (env REDIS_URL): allowed: a redis:// or rediss:// URL such as redis://127.0.0.1:6379');
    expect(error.message).not.toContain('hunter2');
  });

  it('does not require Vault settings unless the provider is vault', () => {
    expect(() => loadConfig({ env: { CERT_MANAGER: 'tresor' } })).not.toThrow();
  });

  it('names an unknown key in the file', () => {
    const file = tempFile('typo.yaml', 'certificateProvider:\n  knid: vault\n');
    const error = configError({}, file);
    expect(error.message).toBe(`Invalid configuration: certificateProvider.knid (file ${file}) not a known option (see docs/configuration.md)`);
  });

  it('reports several bad values on the same single line', () => {
    const error = configError({ CERT_MANAGER: 'x', VAULT_PROTOCOL: 'y' });
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.message).toContain('certificateProvider.kind="x"');
    expect(error.message).toContain('vault.protocol="y"');
  });
});
