// The client that talks to the Kubernetes API for cert-manager objects. It knows HTTP paths and
// response shapes; it knows nothing about certificates or timeouts (that is the provider's job).
// Everything it returns has been validated; every failure is a ProviderError.
import { z } from 'zod';
import { CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { ProviderError } from '../errors.js';
import { toProviderError } from './kube-errors.js';
import {
  CERT_MANAGER_GROUP,
  CERT_MANAGER_VERSION,
  CERTIFICATE_REQUESTS,
  certificateRequestListSchema,
  certificateRequestSchema,
  issuerSchema,
  type CertificateRequestBody,
  type CertificateRequestObject,
  type IssuerKind,
  type IssuerObject,
} from './resources.js';

export interface IssuerLookup {
  readonly name: string;
  readonly kind: IssuerKind;
  readonly group: string;
  /** Namespace of an Issuer; ignored for a ClusterIssuer. */
  readonly namespace: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  stop(): void;
}

export interface CertificateRequestWatcher {
  /**
   * Streams events for one CertificateRequest. Resolves once the stream is open; `onEnd` is called
   * once when it closes for any reason other than stop() (with the error, if there was one).
   */
  watchCertificateRequest(
    namespace: string,
    name: string,
    onEvent: (type: WatchEventType, object: CertificateRequestObject) => void,
    onEnd: (error: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface CertManagerClient extends CertificateRequestWatcher {
  createCertificateRequest(body: CertificateRequestBody): Promise<CertificateRequestObject>;
  /** undefined when it does not exist. */
  getCertificateRequest(namespace: string, name: string): Promise<CertificateRequestObject | undefined>;
  /** true when something was deleted, false when it was already gone. */
  deleteCertificateRequest(namespace: string, name: string): Promise<boolean>;
  listCertificateRequests(namespace: string, labelSelector?: string): Promise<CertificateRequestObject[]>;
  /** undefined when it does not exist. */
  getIssuer(lookup: IssuerLookup): Promise<IssuerObject | undefined>;
}

const ISSUER_PLURALS: Record<IssuerKind, string> = { Issuer: 'issuers', ClusterIssuer: 'clusterissuers' };

function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    // A body that is not the object we asked for is a broken gateway or proxy, not our request.
    throw new ProviderError('ISSUANCE_FAILED', `The Kubernetes API returned an unexpected ${what}; check what answers at the API server address.`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 404;
}

/** CertManagerClient over @kubernetes/client-node's CustomObjectsApi and Watch. */
export class KubernetesCertManagerClient implements CertManagerClient {
  private readonly api: CustomObjectsApi;
  private readonly watch: Watch;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.watch = new Watch(kubeConfig);
  }

  async createCertificateRequest(body: CertificateRequestBody): Promise<CertificateRequestObject> {
    const namespace = body.metadata.namespace;
    const action = `create a CertificateRequest in namespace ${namespace}`;
    let created: unknown;
    try {
      created = await this.api.createNamespacedCustomObject({
        group: CERT_MANAGER_GROUP,
        version: CERT_MANAGER_VERSION,
        namespace,
        plural: CERTIFICATE_REQUESTS,
        body,
      });
    } catch (error) {
      throw toProviderError(error, action);
    }
    return parseWith(certificateRequestSchema, created, 'CertificateRequest');
  }

  async getCertificateRequest(namespace: string, name: string): Promise<CertificateRequestObject | undefined> {
    let found: unknown;
    try {
      found = await this.api.getNamespacedCustomObject({
        group: CERT_MANAGER_GROUP,
        version: CERT_MANAGER_VERSION,
        namespace,
        plural: CERTIFICATE_REQUESTS,
        name,
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toProviderError(error, `read CertificateRequest ${namespace}/${name}`);
    }
    return parseWith(certificateRequestSchema, found, 'CertificateRequest');
  }

  async deleteCertificateRequest(namespace: string, name: string): Promise<boolean> {
    try {
      await this.api.deleteNamespacedCustomObject({
        group: CERT_MANAGER_GROUP,
        version: CERT_MANAGER_VERSION,
        namespace,
        plural: CERTIFICATE_REQUESTS,
        name,
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw toProviderError(error, `delete CertificateRequest ${namespace}/${name}`);
    }
  }

  async listCertificateRequests(namespace: string, labelSelector?: string): Promise<CertificateRequestObject[]> {
    let list: unknown;
    try {
      list = await this.api.listNamespacedCustomObject({
        group: CERT_MANAGER_GROUP,
        version: CERT_MANAGER_VERSION,
        namespace,
        plural: CERTIFICATE_REQUESTS,
        ...(labelSelector === undefined ? {} : { labelSelector }),
      });
    } catch (error) {
      throw toProviderError(error, `list CertificateRequests in namespace ${namespace}`);
    }
    return parseWith(certificateRequestListSchema, list, 'CertificateRequest list').items;
  }

  async getIssuer(lookup: IssuerLookup): Promise<IssuerObject | undefined> {
    const plural = ISSUER_PLURALS[lookup.kind];
    const where = lookup.kind === 'ClusterIssuer' ? `ClusterIssuer ${lookup.name}` : `Issuer ${lookup.namespace}/${lookup.name}`;
    let found: unknown;
    try {
      found =
        lookup.kind === 'ClusterIssuer'
          ? await this.api.getClusterCustomObject({ group: lookup.group, version: CERT_MANAGER_VERSION, plural, name: lookup.name })
          : await this.api.getNamespacedCustomObject({
              group: lookup.group,
              version: CERT_MANAGER_VERSION,
              namespace: lookup.namespace,
              plural,
              name: lookup.name,
            });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toProviderError(error, `read ${where}`);
    }
    return parseWith(issuerSchema, found, lookup.kind);
  }

  async watchCertificateRequest(
    namespace: string,
    name: string,
    onEvent: (type: WatchEventType, object: CertificateRequestObject) => void,
    onEnd: (error: unknown) => void,
  ): Promise<WatchHandle> {
    let stopped = false;
    let ended = false;
    let opened = false;
    let earlyError: unknown;
    const end = (error: unknown): void => {
      if (stopped || ended) return;
      ended = true;
      // Before the stream opened the failure is reported by throwing, not through onEnd.
      if (!opened) earlyError = error ?? new Error('the watch closed before it opened');
      else onEnd(error);
    };
    const action = `watch CertificateRequest ${namespace}/${name}`;
    const path = `/apis/${CERT_MANAGER_GROUP}/${CERT_MANAGER_VERSION}/namespaces/${encodeURIComponent(namespace)}/${CERTIFICATE_REQUESTS}`;
    let controller: AbortController;
    try {
      controller = await this.watch.watch(
        path,
        { fieldSelector: `metadata.name=${name}` },
        (type: string, object: unknown) => {
          if (stopped || ended) return;
          if (type === 'ERROR') {
            // A Status object in the stream (e.g. 410 Gone): the watch is over; the caller polls instead.
            end(new Error(`${action} reported an error: ${JSON.stringify(object)}`));
            return;
          }
          const parsed = certificateRequestSchema.safeParse(object);
          // An object we cannot read is skipped: the caller re-reads the request when it polls.
          if (!parsed.success) return;
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') onEvent(type, parsed.data);
        },
        end,
      );
    } catch (error) {
      throw toProviderError(error, action);
    }
    if (ended) throw toProviderError(earlyError, action);
    opened = true;
    return {
      stop: () => {
        stopped = true;
        controller.abort();
      },
    };
  }
}
