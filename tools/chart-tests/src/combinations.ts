// The option combinations every chart test runs over: each provider, and the chart's own
// switches that change which objects, variables or permissions are rendered.
import { randomBytes } from 'node:crypto';
import type { SetValues } from './helm.js';

/** FSM's documented Vault install line ("fsm install --set ..."), as the acceptance names it. */
export const FSM_VAULT_LINE: SetValues = {
  'fsm.certificateProvider.kind': 'vault',
  'fsm.vault.host': 'vault.example',
  'fsm.vault.token': 't',
  'fsm.vault.role': 'fsm',
};

export const COMBINATIONS: Readonly<Record<string, SetValues>> = {
  'Tresor with every default': {},
  "Vault from FSM's documented install line": FSM_VAULT_LINE,
  'Vault over https with the token in a Secret of the operator and the bootstrap Job': {
    'fsm.certificateProvider.kind': 'vault',
    'fsm.vault.host': 'vault.vault.svc.cluster.local',
    'fsm.vault.protocol': 'https',
    'fsm.vault.port': '8201',
    'fsm.vault.secret.name': 'vault-token',
    'fsm.vault.secret.key': 'token',
    'vaultTLS.caSecret.name': 'vault-ca',
    'vaultBootstrap.enabled': 'true',
  },
  'cert-manager with the default Issuer': { 'fsm.certificateProvider.kind': 'cert-manager' },
  'cert-manager with a ClusterIssuer': {
    'fsm.certificateProvider.kind': 'cert-manager',
    'fsm.certmanager.issuerName': 'mesh-root',
    'fsm.certmanager.issuerKind': 'ClusterIssuer',
  },
  'cert-manager with an issuer of an external group': {
    'fsm.certificateProvider.kind': 'cert-manager',
    'fsm.certmanager.issuerName': 'pca',
    'fsm.certmanager.issuerGroup': 'awspca.cert-manager.io',
  },
  'an existing Redis Cluster, a key-encryption key of the operator, ServiceAccount tokens, a ServiceMonitor and a plain-HTTP gateway': {
    'redis.url': 'rediss://:s3cret@redis.example:6380',
    'redis.prefix': '\\{mesh-a\\}',
    'keyEncryptionKey.existingSecret.name': 'my-kek',
    'keyEncryptionKey.existingSecret.key': 'kek',
    'auth.serviceAccountTokens.enabled': 'true',
    'serviceMonitor.enabled': 'true',
    'issuerGateway.tls': 'false',
    'issuerGateway.port': '8080',
  },
  'a Redis URL from a Secret, extra gateway tokens, no admin token and network policy peers': {
    'redis.existingUrlSecret.name': 'redis-conn',
    'redis.existingUrlSecret.key': 'url',
    'auth.adminToken.enabled': 'false',
    'auth.tokens[0].name': 'ops',
    'auth.tokens[0].token': 'an-operator-token-of-some-length',
    'auth.tokens[0].scopes': '{issue,read}',
    'auth.tokens[0].names': '{*.bookstore.cluster.local}',
    'networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name': 'monitoring',
  },
};

/** Values of the Secrets an operator brings (rendered nowhere), by "<secret>/<key>". */
export const OPERATOR_SECRETS: Readonly<Record<string, string>> = {
  'vault-token/token': 's.operator-vault-token',
  'my-kek/kek': randomBytes(32).toString('base64'),
  'redis-conn/url': 'redis://:pw@redis.example:6379',
};
