// Picks the secret store named by the configuration (secretStore.kind).
import { KubeConfig } from '@kubernetes/client-node';
import type { FsmConfig } from '@fsm-certs/config';
import { FileSecretStore } from './file-store.js';
import { KubernetesSecretStore } from './kubernetes-store.js';
import type { SecretStore } from './types.js';

/** KUBECONFIG / config.kubeconfig when given, else the default chain (in-cluster service account, ~/.kube/config). */
export function loadKubeConfig(config: Pick<FsmConfig, 'kubeconfig'>): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (config.kubeconfig !== undefined) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}

export function createSecretStore(config: Pick<FsmConfig, 'secretStore' | 'kubeconfig'>, deps: { kubeConfig?: KubeConfig } = {}): SecretStore {
  if (config.secretStore.kind === 'kubernetes') {
    return new KubernetesSecretStore({ kubeConfig: deps.kubeConfig ?? loadKubeConfig(config) });
  }
  return new FileSecretStore({ dataDir: config.secretStore.dataDir });
}
