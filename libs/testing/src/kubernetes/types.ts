// Shapes shared by the Kubernetes API emulator's store, router and resource definitions.

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Any Kubernetes object as JSON. Resource definitions narrow it with their own validation. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** One invalid field, reported in a 422 Status's details.causes (reason e.g. FieldValueInvalid). */
export interface FieldCause {
  readonly reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueTooLong';
  readonly field: string;
  readonly message: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject;
}

/**
 * What a resource type needs to be served. Register one with KubernetesEmulator.registerResource().
 * Hooks receive deep copies; they may mutate and return the object they are given.
 */
export interface ResourceDefinition {
  /** '' for the core group (served under /api/v1), e.g. 'cert-manager.io' otherwise (/apis/<group>/<version>). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural used in URLs, e.g. 'secrets', 'certificaterequests'. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** Kubernetes allows a PUT without metadata.resourceVersion for built-in types but not for custom resources. Default true. */
  readonly allowUnconditionalUpdate?: boolean;
  /**
   * When true (custom resources with the status subresource), a PUT/PATCH on the object keeps the
   * stored status, and only PUT/PATCH on .../<name>/status changes it. Default false.
   */
  readonly statusSubresource?: boolean;
  /** Defaulting / normalisation before validation (e.g. Secret stringData -> data, type Opaque). */
  readonly prepare?: (incoming: KubeObject, existing: KubeObject | undefined) => KubeObject;
  /** Returns the invalid fields; a non-empty list becomes a 422 Invalid Status. `existing` is set on update. */
  readonly validate?: (object: KubeObject, existing: KubeObject | undefined) => readonly FieldCause[];
  /**
   * A validating admission webhook, consulted after `validate` passed (the API server's order:
   * schema validation, then validating admission). A message denies the write as the API server
   * reports a webhook's denial: 403 Forbidden, `admission webhook "<webhook>" denied the request: <message>`.
   */
  readonly admission?: ValidatingWebhook;
}

export interface ValidatingWebhook {
  /** The webhook's name in its ValidatingWebhookConfiguration, e.g. webhook.cert-manager.io. */
  readonly webhook: string;
  /** undefined admits; a string is the webhook's denial message. `existing` is set on update. */
  readonly check: (object: KubeObject, existing: KubeObject | undefined) => string | undefined;
}

export function resourceKey(def: Pick<ResourceDefinition, 'group' | 'plural'>): string {
  return def.group === '' ? def.plural : `${def.plural}.${def.group}`;
}

export function apiVersionOf(def: Pick<ResourceDefinition, 'group' | 'version'>): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}
