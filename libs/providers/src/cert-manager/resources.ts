// The slice of cert-manager's API objects we read, validated with zod at the edge: whatever the
// API server (or a proxy in front of it) returns is untrusted until it parses here.
import { leafKeyUsages, type KeyFamily, type KeyUsage } from '@fsm-certs/core';
import { z } from 'zod';

export const CERT_MANAGER_GROUP = 'cert-manager.io';
export const CERT_MANAGER_VERSION = 'v1';
export const CERTIFICATE_REQUESTS = 'certificaterequests';

export type IssuerKind = 'Issuer' | 'ClusterIssuer';

/** cert-manager's spelling (its KeyUsage enum) of the X.509 key usages a leaf may carry. */
const CERT_MANAGER_KEY_USAGE: Readonly<Record<KeyUsage, string>> = {
  digitalSignature: 'digital signature',
  keyEncipherment: 'key encipherment',
  keyAgreement: 'key agreement',
};

/**
 * The usages fsm-certs asks for: exactly what a mesh leaf with a key of this family carries. The
 * key family decides, because cert-manager signs the usages it is given whatever the key (an EC
 * leaf with keyEncipherment breaks RFC 5480).
 */
export function meshLeafUsages(family: KeyFamily): string[] {
  return [...leafKeyUsages(family).map((usage) => CERT_MANAGER_KEY_USAGE[usage]), 'server auth', 'client auth'];
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'fsm-certs';
/** A hash, not the name itself: label values are limited to 63 characters of [A-Za-z0-9._-]. */
export const COMMON_NAME_HASH_LABEL = 'fsm-certs.flomesh.io/common-name-hash';

const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});
export type Condition = z.infer<typeof conditionSchema>;

const metadataSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const certificateRequestSchema = z.object({
  metadata: metadataSchema,
  status: z
    .object({
      conditions: z.array(conditionSchema).optional(),
      certificate: z.string().optional(),
      ca: z.string().optional(),
      failureTime: z.string().optional(),
    })
    .optional(),
});
export type CertificateRequestObject = z.infer<typeof certificateRequestSchema>;

export const certificateRequestListSchema = z.object({ items: z.array(certificateRequestSchema) });

/** Enough of an Issuer/ClusterIssuer to tell which kind of signer it is. */
export const issuerSchema = z.object({
  metadata: metadataSchema,
  spec: z
    .object({
      acme: z.unknown().optional(),
      ca: z.object({ secretName: z.string() }).optional(),
    })
    .loose()
    .optional(),
  status: z.object({ conditions: z.array(conditionSchema).optional() }).optional(),
});
export type IssuerObject = z.infer<typeof issuerSchema>;

/** What we POST. Only the fields cert-manager defines; the server picks the name from generateName. */
export interface CertificateRequestBody {
  readonly apiVersion: 'cert-manager.io/v1';
  readonly kind: 'CertificateRequest';
  readonly metadata: {
    readonly generateName: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly spec: {
    readonly request: string;
    readonly issuerRef: { readonly name: string; readonly kind: IssuerKind; readonly group: string };
    readonly duration: string;
    readonly usages: readonly string[];
    readonly isCA: false;
  };
}

export function findCondition(object: CertificateRequestObject, type: string): Condition | undefined {
  return object.status?.conditions?.find((condition) => condition.type === type);
}
