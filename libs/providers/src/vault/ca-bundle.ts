// Publishes Vault's root certificate (never a key: Vault keeps it) as `ca.crt` in the
// caBundleSecretName secret, creating or updating it, so workloads and the gateway can trust it.
import { ProviderError } from '../errors.js';
import type { SecretRef, SecretStore } from '../secret-store/types.js';

export type CaBundleWrite = 'created' | 'updated' | 'unchanged';

export async function publishCaBundle(store: SecretStore, ref: SecretRef, caPem: string): Promise<CaBundleWrite> {
  const wanted = Buffer.from(caPem, 'utf8');
  // Two tries cover the races a replica can lose: a concurrent create, or a concurrent update.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const existing = await store.get(ref);
    try {
      if (existing === undefined) {
        await store.create(ref, { 'ca.crt': wanted });
        return 'created';
      }
      const current = existing.data['ca.crt'];
      if (current !== undefined && current.equals(wanted)) return 'unchanged';
      // Keep other keys (an operator may store more), but never a private key for Vault.
      const data: Record<string, Buffer> = { ...existing.data, 'ca.crt': wanted };
      delete data['private.key'];
      await store.update(ref, data, existing.resourceVersion);
      return 'updated';
    } catch (error) {
      const raced = error instanceof ProviderError && (error.code === 'SECRET_ALREADY_EXISTS' || error.code === 'SECRET_CONFLICT');
      if (!raced || attempt === 3) throw error;
    }
  }
  throw new ProviderError('SECRET_STORE_ERROR', `Could not write ca.crt to secret ${ref.namespace}/${ref.name}: check the secret store.`);
}
