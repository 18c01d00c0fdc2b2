// Reading the Tresor root from its secret (data keys ca.crt + private.key, FSM's
// fsm-ca-bundle shape). An unusable bundle is an error that names the secret and FSM's fix;
// it is never overwritten silently, because every workload certificate chains to it.
import { isX509Error, loadIssuer } from '@fsm-certs/x509';
import type { Issuer } from '@fsm-certs/x509';
import { ProviderError } from '../errors.js';
import { FileSecretStore } from '../secret-store/file-store.js';
import type { SecretRef, SecretStore, StoredSecret } from '../secret-store/types.js';

export const CA_CERT_KEY = 'ca.crt';
export const CA_PRIVATE_KEY_KEY = 'private.key';

/** What an operator does to start over with a new root, per store (FSM's rotation steps). */
export function rootResetHint(store: SecretStore, ref: SecretRef): string {
  if (store instanceof FileSecretStore) {
    return `delete ${store.pathOf(ref)} and restart fsm-certs to generate a new root (workloads must then get new certificates)`;
  }
  return `kubectl delete secret ${ref.name} -n ${ref.namespace}, then restart the control plane (kubectl rollout restart deploy -n ${ref.namespace}) to generate a new root`;
}

export function invalidBundle(store: SecretStore, ref: SecretRef, problem: string, cause?: unknown): ProviderError {
  return new ProviderError(
    'CA_BUNDLE_INVALID',
    `CA bundle secret ${ref.namespace}/${ref.name} is unusable: ${problem}. It was left untouched; to replace it: ${rootResetHint(store, ref)}.`,
    cause === undefined ? {} : { cause },
  );
}

export function issuerFromBundle(store: SecretStore, secret: StoredSecret, now: Date): Issuer {
  const { ref } = secret;
  const missing = [CA_CERT_KEY, CA_PRIVATE_KEY_KEY].filter((key) => secret.data[key] === undefined || secret.data[key].length === 0);
  if (missing.length > 0) {
    throw invalidBundle(store, ref, `data key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(' and ')} missing`);
  }
  const certificatePem = secret.data[CA_CERT_KEY]?.toString('utf8') ?? '';
  const privateKeyPem = secret.data[CA_PRIVATE_KEY_KEY]?.toString('utf8') ?? '';
  try {
    return loadIssuer(certificatePem, privateKeyPem, now);
  } catch (error) {
    if (isX509Error(error)) throw invalidBundle(store, ref, `${error.code}: ${error.message}`, error);
    throw invalidBundle(store, ref, 'it cannot be parsed', error);
  }
}
