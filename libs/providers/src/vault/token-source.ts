// Where the Vault token comes from: given directly (vault.token / VAULT_TOKEN), or read from a
// Kubernetes-Secret-shaped store (vault.secret.name / vault.secret.key in the control-plane
// namespace). A secret source is re-read after a 403, so a rotated token is picked up.
import { ProviderError } from '../errors.js';
import type { SecretRef, SecretStore } from '../secret-store/types.js';

export interface TokenSource {
  /** Human-readable origin for logs and errors, never the token itself. */
  readonly description: string;
  /** true when reading again may give a different token. */
  readonly rereadable: boolean;
  read(): Promise<string>;
}

export function staticTokenSource(token: string): TokenSource {
  if (token.trim() === '') {
    throw new ProviderError('CONFIGURATION_INVALID', 'vault.token (VAULT_TOKEN) is empty: set it, or set vault.secret.name and vault.secret.key instead.');
  }
  return { description: 'vault.token', rereadable: false, read: () => Promise.resolve(token.trim()) };
}

export function secretTokenSource(store: SecretStore, ref: SecretRef, key: string): TokenSource {
  const where = `secret ${ref.namespace}/${ref.name} key ${key}`;
  return {
    description: where,
    rereadable: true,
    async read() {
      const secret = await store.get(ref);
      if (secret === undefined) {
        throw new ProviderError(
          'CONFIGURATION_INVALID',
          `The Vault token ${where} does not exist: create it (kubectl create secret generic ${ref.name} -n ${ref.namespace} --from-literal=${key}=<token>) or set vault.token.`,
        );
      }
      const value = secret.data[key]?.toString('utf8').trim();
      if (value === undefined || value === '') {
        throw new ProviderError('CONFIGURATION_INVALID', `The Vault token ${where} is missing or empty: put the token under key ${key} or fix vault.secret.key.`);
      }
      return value;
    },
  };
}
