// A place to keep Kubernetes-Secret-shaped data (the fsm-ca-bundle: ca.crt + private.key).
// Implementations: Kubernetes Secrets (in cluster) and files (the embedded default).

export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

export interface StoredSecret {
  readonly ref: SecretRef;
  /** Decoded values by data key, e.g. { 'ca.crt': <PEM bytes>, 'private.key': <PEM bytes> }. */
  readonly data: Readonly<Record<string, Buffer>>;
  /** Opaque version for optimistic concurrency (Kubernetes resourceVersion, file mtime+hash). */
  readonly resourceVersion: string;
}

export interface SecretStore {
  readonly kind: 'kubernetes' | 'file';
  /** undefined when the secret does not exist. */
  get(ref: SecretRef): Promise<StoredSecret | undefined>;
  /** Create-if-absent: throws ProviderError SECRET_ALREADY_EXISTS when it exists (409 AlreadyExists). */
  create(ref: SecretRef, data: Readonly<Record<string, Buffer>>): Promise<StoredSecret>;
  /** Replace with optimistic concurrency: throws ProviderError SECRET_CONFLICT on a stale resourceVersion. */
  update(ref: SecretRef, data: Readonly<Record<string, Buffer>>, resourceVersion: string): Promise<StoredSecret>;
  /** true when something was deleted. */
  delete(ref: SecretRef): Promise<boolean>;
}
