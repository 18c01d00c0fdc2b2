// Secrets in a Kubernetes cluster through @kubernetes/client-node's CoreV1Api. The API server's
// Status answers map onto ProviderError codes: 404 -> absent, 409 AlreadyExists ->
// SECRET_ALREADY_EXISTS (what makes create-if-absent safe across replicas), 409 Conflict ->
// SECRET_CONFLICT, 401/403 -> BACKEND_AUTH_FAILED, 422 -> SECRET_STORE_ERROR, 5xx/network ->
// BACKEND_UNAVAILABLE.
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { z } from 'zod';
import { ProviderError } from '../errors.js';
import type { SecretRef, SecretStore, StoredSecret } from './types.js';

const statusSchema = z.object({ reason: z.string().optional(), message: z.string().optional() });

interface ApiStatus {
  readonly code: number;
  readonly reason: string | undefined;
  readonly message: string | undefined;
}

/** client-node 1.4 hands the Status body over as raw text; parse it defensively. */
function apiStatus(error: unknown): ApiStatus | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = error.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = {};
    }
  }
  const status = statusSchema.safeParse(parsed);
  return { code: error.code, reason: status.success ? status.data.reason : undefined, message: status.success ? status.data.message : undefined };
}

function describe(ref: SecretRef): string {
  return `Secret ${ref.namespace}/${ref.name}`;
}

function mapError(error: unknown, ref: SecretRef, verb: string): ProviderError {
  const status = apiStatus(error);
  if (status === undefined) {
    return new ProviderError('BACKEND_UNAVAILABLE', `Cannot ${verb} ${describe(ref)}: the Kubernetes API is unreachable (${(error as Error).message.split('\n')[0] ?? 'network error'}); check KUBECONFIG / in-cluster access.`, {
      cause: error,
    });
  }
  const detail = status.message ?? status.reason ?? `HTTP ${status.code}`;
  if (status.code === 409 && status.reason === 'AlreadyExists') {
    return new ProviderError('SECRET_ALREADY_EXISTS', `${describe(ref)} already exists.`, { cause: error });
  }
  if (status.code === 409) {
    return new ProviderError('SECRET_CONFLICT', `${describe(ref)} changed since it was read (${detail}); read it again and retry.`, { cause: error });
  }
  if (status.code === 401 || status.code === 403) {
    return new ProviderError('BACKEND_AUTH_FAILED', `Not allowed to ${verb} ${describe(ref)} (${detail}); grant the service account get/create/update/delete on secrets in ${ref.namespace}.`, {
      cause: error,
    });
  }
  if (status.code >= 500 || status.code === 429) {
    return new ProviderError('BACKEND_UNAVAILABLE', `Cannot ${verb} ${describe(ref)}: the Kubernetes API answered ${status.code} (${detail}); retry later.`, { cause: error });
  }
  return new ProviderError('SECRET_STORE_ERROR', `Cannot ${verb} ${describe(ref)}: the Kubernetes API answered ${status.code} (${detail}).`, { cause: error });
}

function toStored(ref: SecretRef, secret: V1Secret): StoredSecret {
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64');
  return { ref: { namespace: ref.namespace, name: ref.name }, data, resourceVersion: secret.metadata?.resourceVersion ?? '' };
}

function encode(data: Readonly<Record<string, Buffer>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) out[key] = value.toString('base64');
  return out;
}

export interface KubernetesSecretStoreOptions {
  readonly kubeConfig: KubeConfig;
  /** Labels put on secrets we create, e.g. app.kubernetes.io/managed-by. */
  readonly labels?: Readonly<Record<string, string>>;
}

export class KubernetesSecretStore implements SecretStore {
  readonly kind = 'kubernetes' as const;
  private readonly api: CoreV1Api;
  private readonly labels: Record<string, string>;

  constructor(options: KubernetesSecretStoreOptions) {
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.labels = { 'app.kubernetes.io/managed-by': 'fsm-certs', ...(options.labels ?? {}) };
  }

  async get(ref: SecretRef): Promise<StoredSecret | undefined> {
    try {
      return toStored(ref, await this.api.readNamespacedSecret({ namespace: ref.namespace, name: ref.name }));
    } catch (error) {
      if (apiStatus(error)?.code === 404) return undefined;
      throw mapError(error, ref, 'read');
    }
  }

  async create(ref: SecretRef, data: Readonly<Record<string, Buffer>>): Promise<StoredSecret> {
    try {
      const created = await this.api.createNamespacedSecret({
        namespace: ref.namespace,
        body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: ref.name, namespace: ref.namespace, labels: this.labels }, data: encode(data) },
      });
      return toStored(ref, created);
    } catch (error) {
      throw mapError(error, ref, 'create');
    }
  }

  async update(ref: SecretRef, data: Readonly<Record<string, Buffer>>, resourceVersion: string): Promise<StoredSecret> {
    try {
      const replaced = await this.api.replaceNamespacedSecret({
        namespace: ref.namespace,
        name: ref.name,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'Opaque',
          metadata: { name: ref.name, namespace: ref.namespace, resourceVersion, labels: this.labels },
          data: encode(data),
        },
      });
      return toStored(ref, replaced);
    } catch (error) {
      // The version we hold no longer exists: same remedy as a stale one (read again).
      if (apiStatus(error)?.code === 404) {
        throw new ProviderError('SECRET_CONFLICT', `${describe(ref)} was deleted since it was read; read it again and retry.`, { cause: error });
      }
      throw mapError(error, ref, 'update');
    }
  }

  async delete(ref: SecretRef): Promise<boolean> {
    try {
      await this.api.deleteNamespacedSecret({ namespace: ref.namespace, name: ref.name });
      return true;
    } catch (error) {
      if (apiStatus(error)?.code === 404) return false;
      throw mapError(error, ref, 'delete');
    }
  }
}
