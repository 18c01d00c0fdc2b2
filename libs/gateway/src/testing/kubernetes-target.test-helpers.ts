// Which Kubernetes API the ServiceAccount suite talks to: a real cluster when KUBECONFIG is set,
// otherwise the emulator from @fsm-certs/testing (whose clock the suite may move forward).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '@fsm-certs/providers';
import { KubernetesEmulator } from '@fsm-certs/testing';

export interface KubernetesTarget {
  readonly label: string;
  readonly kubeConfig: KubeConfig;
  /** Where the suite creates its ServiceAccounts (must exist on a real cluster). */
  readonly namespace: string;
  /** Moves the API server's clock forward; only the emulator can. */
  readonly advanceClock: ((ms: number) => void) | undefined;
  createServiceAccount(name: string): Promise<void>;
  deleteServiceAccount(name: string): Promise<void>;
  /** A token as a projected volume holds it (TokenRequest API). */
  token(name: string, audiences: readonly string[], expirationSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

export async function kubernetesTarget(): Promise<KubernetesTarget> {
  const kubeconfigPath = process.env['KUBECONFIG'];
  let skew = 0;
  let emulator: KubernetesEmulator | undefined;
  let kubeConfig: KubeConfig;
  let label: string;
  let namespace: string;
  if (kubeconfigPath !== undefined && kubeconfigPath !== '') {
    kubeConfig = loadKubeConfig({ kubeconfig: kubeconfigPath });
    label = `real cluster ${kubeConfig.getCurrentCluster()?.server ?? '?'} (KUBECONFIG)`;
    namespace = process.env['FSM_TEST_NAMESPACE'] ?? 'default';
  } else {
    emulator = await KubernetesEmulator.start({ now: () => new Date(Date.now() + skew) });
    kubeConfig = emulator.kubeConfig();
    label = `Kubernetes emulator ${emulator.url}`;
    namespace = 'bookstore';
  }
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    label,
    kubeConfig,
    namespace,
    advanceClock:
      emulator === undefined
        ? undefined
        : (ms) => {
            skew += ms;
          },
    async createServiceAccount(name) {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    },
    async deleteServiceAccount(name) {
      await core.deleteNamespacedServiceAccount({ namespace, name });
    },
    async token(name, audiences, expirationSeconds = 3600) {
      const answer = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [...audiences], expirationSeconds } } });
      const token = answer.status?.token;
      if (token === undefined) throw new Error('TokenRequest answered without a token');
      return token;
    },
    close: async () => emulator?.close(),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
