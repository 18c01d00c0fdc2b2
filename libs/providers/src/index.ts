// Public API of @fsm-certs/providers. Other helpers add their provider's export line below.
export type { CertificateProvider, IssuedCertificate, IssueRequest, ProviderKind, TrustBundle } from './provider.js';
export { ProviderError, isProviderError } from './errors.js';
export type { ProviderErrorCode } from './errors.js';
export type { SecretRef, SecretStore, StoredSecret } from './secret-store/types.js';
export { FileSecretStore } from './secret-store/file-store.js';
export type { FileSecretStoreOptions } from './secret-store/file-store.js';
export { KubernetesSecretStore } from './secret-store/kubernetes-store.js';
export type { KubernetesSecretStoreOptions } from './secret-store/kubernetes-store.js';
export { createSecretStore } from './secret-store/create-secret-store.js';
export { kubeconfigFiles, loadKubeConfig } from './kubeconfig.js';
export { TresorProvider } from './tresor/tresor-provider.js';
export type { TresorStartOptions, TresorMaterial } from './tresor/tresor-provider.js';
export {
  DEFAULT_PROPAGATION_MS,
  DEFAULT_SPREAD_MS,
  ROTATION_STATE_KEY,
  STANDBY_CERT_KEY,
  STANDBY_PRIVATE_KEY_KEY,
  type RotationState,
  type TresorRotationStage,
} from './tresor/rotation-state.js';
export type { RotationStep } from './tresor/rotation-steps.js';
export { CA_CERT_KEY, CA_PRIVATE_KEY_KEY, rootResetHint } from './tresor/ca-bundle.js';
export { createProvider } from './create-provider.js';
export type { ProviderDeps } from './create-provider.js';
export * from './vault/index.js';
export * from './cert-manager/index.js';
export {
  CERT_MANAGER_CA_BUNDLE_OPERATIONS,
  CERT_MANAGER_CLIENT_CALLS,
  CERT_MANAGER_PROVIDER_METHODS,
  TRESOR_CA_BUNDLE_OPERATIONS,
  VAULT_CA_BUNDLE_OPERATIONS,
  VAULT_TOKEN_SECRET_OPERATIONS,
  permissionKey,
  providerKubernetesAccess,
  secretStorePermissions,
} from './kubernetes-access.js';
export type { AccessConfig, KubernetesPermission, KubernetesVerb, SecretOperation } from './kubernetes-access.js';
export { KubernetesTokenReviewer, TOKEN_REVIEW_PERMISSION } from './token-review/kubernetes-token-reviewer.js';
export type { TokenReviewAnswer, TokenReviewer } from './token-review/kubernetes-token-reviewer.js';
