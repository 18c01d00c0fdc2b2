// Which Kubernetes API a suite talks to: a real cluster when KUBECONFIG is set, otherwise the
// emulator from @fsm-certs/testing. Suites print the target so a run says what it proved.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubernetesEmulator } from '@fsm-certs/testing';
import { loadKubeConfig } from './kubeconfig.js';

export interface KubernetesTarget {
  readonly label: string;
  readonly kubeConfig: KubeConfig;
  /** Namespace the suite may create secrets in (must exist on a real cluster). */
  readonly namespace: string;
  close(): Promise<void>;
}

export async function kubernetesTarget(): Promise<KubernetesTarget> {
  const kubeconfigPath = process.env.KUBECONFIG;
  if (kubeconfigPath !== undefined && kubeconfigPath !== '') {
    // The apps' loader, so a list (KUBECONFIG=a:b) means here what it means to them.
    const kubeConfig = loadKubeConfig({ kubeconfig: kubeconfigPath });
    return {
      label: `real cluster ${kubeConfig.getCurrentCluster()?.server ?? '?'} (KUBECONFIG)`,
      kubeConfig,
      namespace: process.env.FSM_TEST_NAMESPACE ?? 'default',
      close: async () => undefined,
    };
  }
  const emulator = await KubernetesEmulator.start();
  return {
    label: `Kubernetes emulator ${emulator.url}`,
    kubeConfig: emulator.kubeConfig(),
    namespace: 'fsm-system',
    close: () => emulator.close(),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}
