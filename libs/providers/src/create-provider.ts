// The one switch from configuration to a CertificateProvider. Each kind's adapter is wired here;
// vault and cert-manager plug in beside tresor.
import type { KubeConfig } from '@kubernetes/client-node';
import type { FsmConfig } from '@fsm-certs/config';
import type { Clock } from './clock.js';
import { ProviderError } from './errors.js';
import type { CertificateProvider } from './provider.js';
import { createSecretStore } from './secret-store/create-secret-store.js';
import type { SecretStore } from './secret-store/types.js';
import { TresorProvider } from './tresor/tresor-provider.js';

export interface ProviderDeps {
  /** Where the CA bundle secret lives; default from config.secretStore. */
  readonly store?: SecretStore;
  /** For the Kubernetes store and cert-manager; default from config.kubeconfig / in-cluster. */
  readonly kubeConfig?: KubeConfig;
  readonly clock?: Clock;
}

export async function createProvider(config: FsmConfig, deps: ProviderDeps = {}): Promise<CertificateProvider> {
  const kind = config.certificateProvider.kind;
  switch (kind) {
    case 'tresor':
      return TresorProvider.start({
        store: deps.store ?? createSecretStore(config, deps.kubeConfig === undefined ? {} : { kubeConfig: deps.kubeConfig }),
        namespace: config.namespace,
        secretName: config.caBundleSecretName,
        rootValidityMs: config.certificateProvider.rootValidityMs,
        keyAlgorithm: config.certificateProvider.keyAlgorithm,
        ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      });
    case 'vault':
    case 'cert-manager':
      throw new ProviderError(
        'CONFIGURATION_INVALID',
        `certificateProvider.kind "${kind}" is not available in this build yet; use "tresor" (CERT_MANAGER=tresor).`,
      );
    default: {
      const unknown: never = kind;
      throw new ProviderError('CONFIGURATION_INVALID', `Unknown certificateProvider.kind "${String(unknown)}"; use tresor, vault or cert-manager.`);
    }
  }
}
