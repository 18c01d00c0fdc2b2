// Where the key-encryption key comes from. Production sets FSM_KEY_ENCRYPTION_KEY; the embedded
// dev mode (file secret store) may leave it unset, and then every service process loads — or the
// first one creates — a random KEK in the secret store, with the same create-if-absent race rule
// as the CA bundle: whoever loses the create reads the winner, so all replicas share one KEK.
import { generateKek, parseKek, type KeyEncryptionKey } from '@fsm-certs/queue';
import { ProviderError, secretStorePermissions, type KubernetesPermission, type SecretRef, type SecretStore } from '@fsm-certs/providers';
import { IssuanceError } from './errors.js';

export const KEK_SECRET_NAME = 'fsm-certs-kek';
export const KEK_SECRET_KEY = 'kek';

export interface LoadKekOptions {
  /** FSM_KEY_ENCRYPTION_KEY when set: always wins over the store. */
  readonly configured: string | undefined;
  /** The secret store; without one an unset KEK is a configuration error. */
  readonly store?: SecretStore;
  readonly namespace: string;
  /** Only the embedded (file store) mode may invent a KEK; default: store.kind === 'file'. */
  readonly allowCreate?: boolean;
}

export interface LoadedKek {
  readonly kek: KeyEncryptionKey;
  readonly source: 'config' | 'secret-store' | 'created';
}

function fromSecret(value: Buffer | undefined, ref: SecretRef): KeyEncryptionKey {
  if (value === undefined) {
    throw new IssuanceError(
      'KEK_INVALID',
      `Secret ${ref.namespace}/${ref.name} has no "${KEK_SECRET_KEY}" entry; delete the secret to let a service create a new one (existing encrypted keys become unreadable) or set FSM_KEY_ENCRYPTION_KEY.`,
    );
  }
  try {
    return parseKek(value.toString('utf8'));
  } catch (error) {
    throw new IssuanceError(
      'KEK_INVALID',
      `Secret ${ref.namespace}/${ref.name} key "${KEK_SECRET_KEY}" is not a 32-byte base64 key; fix or delete it, or set FSM_KEY_ENCRYPTION_KEY.`,
      { cause: error },
    );
  }
}

export async function loadOrCreateKek(options: LoadKekOptions): Promise<LoadedKek> {
  if (options.configured !== undefined && options.configured.trim() !== '') {
    try {
      return { kek: parseKek(options.configured), source: 'config' };
    } catch (error) {
      throw new IssuanceError('KEK_INVALID', `FSM_KEY_ENCRYPTION_KEY is unusable: ${error instanceof Error ? error.message : 'invalid value'}`, {
        cause: error,
      });
    }
  }
  const store = options.store;
  const allowCreate = options.allowCreate ?? store?.kind === 'file';
  if (store === undefined) {
    throw new IssuanceError('KEK_INVALID', 'No key-encryption key: set FSM_KEY_ENCRYPTION_KEY (generate one with `openssl rand -base64 32`).');
  }
  const ref: SecretRef = { namespace: options.namespace, name: KEK_SECRET_NAME };
  const existing = await store.get(ref);
  if (existing !== undefined) return { kek: fromSecret(existing.data[KEK_SECRET_KEY], ref), source: 'secret-store' };
  if (!allowCreate) {
    throw new IssuanceError(
      'KEK_INVALID',
      `No key-encryption key: neither FSM_KEY_ENCRYPTION_KEY nor Secret ${ref.namespace}/${ref.name} (key "${KEK_SECRET_KEY}") is set, and only the embedded file-store mode creates one by itself. ` +
        `Create the Secret once for all services: kubectl create secret generic -n ${ref.namespace} ${ref.name} --from-literal=${KEK_SECRET_KEY}="$(openssl rand -base64 32)"`,
    );
  }
  const fresh = generateKek();
  try {
    await store.create(ref, { [KEK_SECRET_KEY]: Buffer.from(fresh.base64, 'utf8') });
    return { kek: fresh.kek, source: 'created' };
  } catch (error) {
    if (!(error instanceof ProviderError) || error.code !== 'SECRET_ALREADY_EXISTS') throw error;
    // Lost the race to another process: use the winner's key so every replica agrees.
    const winner = await store.get(ref);
    if (winner === undefined) throw error;
    return { kek: fromSecret(winner.data[KEK_SECRET_KEY], ref), source: 'secret-store' };
  }
}

/**
 * The Kubernetes API calls loadOrCreateKek makes, as RBAC sees them: with the Kubernetes secret
 * store and no FSM_KEY_ENCRYPTION_KEY it reads the Secret fsm-certs-kek (it never creates one
 * there: allowCreate is for the file store only). The Helm chart grants exactly this.
 */
export function kekKubernetesAccess(options: { readonly configured: string | undefined; readonly storeKind: SecretStore['kind'] }): KubernetesPermission[] {
  if (options.storeKind !== 'kubernetes' || (options.configured !== undefined && options.configured.trim() !== '')) return [];
  return secretStorePermissions(KEK_SECRET_NAME, ['get']);
}
