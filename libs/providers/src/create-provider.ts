// The one switch from configuration to a CertificateProvider. Each kind's adapter is wired here;
// vault and cert-manager plug in beside tresor.
import type { KubeConfig } from '@kubernetes/client-node';
import type { FsmConfig } from '@fsm-certs/config';
import type { Clock } from '@fsm-certs/core';
import { createCertManagerProvider } from './cert-manager/provider.js';
import { ProviderError } from './errors.js';
import type { CertificateProvider } from './provider.js';
import { loadKubeConfig } from './kubeconfig.js';
import { createSecretStore } from './secret-store/create-secret-store.js';
import type { SecretStore } from './secret-store/types.js';
import { TresorProvider } from './tresor/tresor-provider.js';
import { createVaultProvider } from './vault/from-config.js';
import { silentLogger, type VaultLogger } from './vault/logger.js';

export interface ProviderDeps {
  /** Where the CA bundle secret lives; default from config.secretStore. */
  readonly store?: SecretStore;
  /** For the Kubernetes store and cert-manager; default from config.kubeconfig / in-cluster. */
  readonly kubeConfig?: KubeConfig;
  readonly clock?: Clock;
  /** Structured (pino-compatible) logger for backend operations; default silent. */
  readonly logger?: VaultLogger;
}

export async function createProvider(config: FsmConfig, deps: ProviderDeps = {}): Promise<CertificateProvider> {
  const kind = config.certificateProvider.kind;
  const store = (): SecretStore => deps.store ?? createSecretStore(config, deps.kubeConfig === undefined ? {} : { kubeConfig: deps.kubeConfig });
  const logger = deps.logger ?? silentLogger;
  switch (kind) {
    case 'tresor':
      return TresorProvider.start({
        store: store(),
        namespace: config.namespace,
        secretName: config.caBundleSecretName,
        rootValidityMs: config.certificateProvider.rootValidityMs,
        keyAlgorithm: config.certificateProvider.keyAlgorithm,
        ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      });
    case 'vault':
      return createVaultProvider(config, { store: store(), logger });
    case 'cert-manager':
      return createCertManagerProvider({
        kubeConfig: deps.kubeConfig ?? loadKubeConfig(config),
        secrets: store(),
        logger,
        namespace: config.namespace,
        caBundleSecretName: config.caBundleSecretName,
        issuerName: config.certmanager.issuerName,
        issuerKind: config.certmanager.issuerKind,
        issuerGroup: config.certmanager.issuerGroup,
        timeoutMs: config.certmanager.timeoutMs,
      });
    default: {
      const unknown: never = kind;
      throw new ProviderError('CONFIGURATION_INVALID', `Unknown certificateProvider.kind "${String(unknown)}"; use tresor, vault or cert-manager.`);
    }
  }
}
