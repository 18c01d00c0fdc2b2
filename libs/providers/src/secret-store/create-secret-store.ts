// Picks the secret store named by the configuration (secretStore.kind).
import type { KubeConfig } from '@kubernetes/client-node';
import type { FsmConfig } from '@fsm-certs/config';
import { loadKubeConfig } from '../kubeconfig.js';
import { FileSecretStore } from './file-store.js';
import { KubernetesSecretStore } from './kubernetes-store.js';
import type { SecretStore } from './types.js';

export function createSecretStore(config: Pick<FsmConfig, 'secretStore' | 'kubeconfig'>, deps: { kubeConfig?: KubeConfig } = {}): SecretStore {
  if (config.secretStore.kind === 'kubernetes') {
    return new KubernetesSecretStore({ kubeConfig: deps.kubeConfig ?? loadKubeConfig(config) });
  }
  return new FileSecretStore({ dataDir: config.secretStore.dataDir });
}
