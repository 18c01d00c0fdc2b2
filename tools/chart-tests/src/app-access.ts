// The Kubernetes API calls each app makes, per its configuration: the composition roots'
// wiring (apps/*/src/main.ts) over the tables kept next to the calling code. The chart must
// grant each app's ServiceAccount exactly this.
import type { FsmConfig } from '@fsm-certs/config';
import { kekKubernetesAccess } from '@fsm-certs/issuance';
import { TOKEN_REVIEW_PERMISSION, providerKubernetesAccess, type KubernetesPermission } from '@fsm-certs/providers';

export const CHART_APPS = ['ca-service', 'issuer-gateway', 'rotation-worker'] as const;
export type ChartApp = (typeof CHART_APPS)[number];

/** The gateway's ServiceAccount authentication posts a TokenReview per new caller token. */
const TOKEN_REVIEW: KubernetesPermission = TOKEN_REVIEW_PERMISSION;

function kek(config: FsmConfig): KubernetesPermission[] {
  return kekKubernetesAccess({ configured: config.worker.keyEncryptionKey, storeKind: config.secretStore.kind });
}

export const APP_KUBERNETES_ACCESS: Readonly<Record<ChartApp, (config: FsmConfig, env: Readonly<Record<string, string>>) => KubernetesPermission[]>> = {
  // createProvider (CA bundle, Vault token Secret, cert-manager objects) + loadOrCreateKek.
  'ca-service': (config) => [...providerKubernetesAccess(config), ...kek(config)],
  // loadOrCreateKek (opens sealed keys) + TokenReviews when ServiceAccount tokens are accepted.
  'issuer-gateway': (config, env) => [...kek(config), ...(env['GATEWAY_SA_AUTH_ENABLED'] === 'true' ? [TOKEN_REVIEW] : [])],
  // Redis only.
  'rotation-worker': () => [],
};
