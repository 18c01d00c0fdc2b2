// cert-manager.io/v1 resources as the API server + cert-manager's CRD schema and webhook accept
// them: CertificateRequest (namespaced, spec immutable), Issuer (namespaced), ClusterIssuer.
import { isDeepStrictEqual } from 'node:util';
import type { FieldCause, KubeObject, ResourceDefinition, ValidatingWebhook } from '../types.js';
import { readCsrDetails } from './csr.js';
import { requestedUsagesMismatch } from './usage-check.js';
import { CERT_MANAGER_USAGES, DEFAULT_USAGES, isCertManagerUsage } from './usages.js';

export const CERT_MANAGER_GROUP = 'cert-manager.io';

const ISSUER_TYPES = ['acme', 'ca', 'vault', 'selfSigned', 'venafi'] as const;
const SUPPORTED_USAGES = CERT_MANAGER_USAGES.map((usage) => `"${usage}"`).join(', ');
const PEM_CSR = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+?-----END (NEW )?CERTIFICATE REQUEST-----/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function required(field: string): FieldCause {
  return { reason: 'FieldValueRequired', field, message: 'Required value' };
}

function invalidValue(field: string, value: unknown, why: string): FieldCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` };
}

/** The PEM CSR inside spec.request, or undefined when spec.request is not base64 of one. */
export function decodeRequestPem(request: unknown): string | undefined {
  if (typeof request !== 'string' || request === '') return undefined;
  const text = Buffer.from(request, 'base64').toString('utf8');
  return PEM_CSR.exec(text)?.[0];
}

function validateIssuerRef(issuerRef: unknown, causes: FieldCause[]): void {
  if (!isRecord(issuerRef)) {
    causes.push(required('spec.issuerRef'));
    return;
  }
  if (typeof issuerRef.name !== 'string' || issuerRef.name === '') causes.push(required('spec.issuerRef.name'));
  const group = issuerRef.group ?? '';
  const kind = issuerRef.kind ?? '';
  if ((group === '' || group === CERT_MANAGER_GROUP) && kind !== '' && kind !== 'Issuer' && kind !== 'ClusterIssuer') {
    causes.push(invalidValue('spec.issuerRef.kind', kind, 'must be one of Issuer or ClusterIssuer'));
  }
}

function validateCertificateRequest(object: KubeObject, existing: KubeObject | undefined): FieldCause[] {
  if (existing !== undefined) {
    // A request is one-shot: the webhook refuses any change to spec after creation.
    return isDeepStrictEqual(object.spec, existing.spec)
      ? []
      : [{ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: field is immutable' }];
  }
  const spec = object.spec;
  if (!isRecord(spec)) return [required('spec')];
  const causes: FieldCause[] = [];
  if (spec.request === undefined || spec.request === '') causes.push(required('spec.request'));
  else if (decodeRequestPem(spec.request) === undefined) {
    causes.push(invalidValue('spec.request', '<request>', 'failed to decode csr: error decoding certificate request PEM block'));
  }
  validateIssuerRef(spec.issuerRef, causes);
  if (spec.usages !== undefined) {
    if (!Array.isArray(spec.usages)) causes.push(invalidValue('spec.usages', spec.usages, 'must be an array'));
    else {
      spec.usages.forEach((usage: unknown, index: number) => {
        if (!isCertManagerUsage(usage)) {
          causes.push({
            reason: 'FieldValueNotSupported',
            field: `spec.usages[${index}]`,
            message: `Unsupported value: ${JSON.stringify(usage)}: supported values: ${SUPPORTED_USAGES}`,
          });
        }
      });
    }
  }
  if (spec.duration !== undefined && typeof spec.duration !== 'string') causes.push(invalidValue('spec.duration', spec.duration, 'must be a string'));
  if (spec.isCA !== undefined && typeof spec.isCA !== 'boolean') causes.push(invalidValue('spec.isCA', spec.isCA, 'must be a boolean'));
  return causes;
}

function validateIssuerSpec(object: KubeObject): FieldCause[] {
  const spec = object.spec;
  if (!isRecord(spec)) return [required('spec')];
  const configured = ISSUER_TYPES.filter((type) => spec[type] !== undefined);
  if (configured.length === 0) {
    return [{ reason: 'FieldValueRequired', field: 'spec', message: 'Required value: at least one issuer must be configured' }];
  }
  if (configured.length > 1) {
    return [{ reason: 'FieldValueForbidden', field: `spec.${configured[1] ?? ''}`, message: 'Forbidden: may not specify more than one issuer type' }];
  }
  const causes: FieldCause[] = [];
  if (spec.ca !== undefined) {
    if (!isRecord(spec.ca) || typeof spec.ca.secretName !== 'string' || spec.ca.secretName === '') causes.push(required('spec.ca.secretName'));
  }
  if (spec.acme !== undefined) {
    if (!isRecord(spec.acme) || typeof spec.acme.server !== 'string' || spec.acme.server === '') causes.push(required('spec.acme.server'));
    const keyRef = isRecord(spec.acme) ? spec.acme.privateKeySecretRef : undefined;
    if (!isRecord(keyRef) || typeof keyRef.name !== 'string' || keyRef.name === '') causes.push(required('spec.acme.privateKeySecretRef.name'));
  }
  return causes;
}

/** How Go's %#v prints a []byte, as field.Invalid shows spec.request (the PEM bytes) in a message. */
function goByteSlice(bytes: Buffer): string {
  return `[]byte{${[...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')}}`;
}

/**
 * cert-manager's validating webhook on CertificateRequest creation (ValidateCertificateRequestSpec
 * since v1.15): the CSR's BasicConstraints and, when it requests KeyUsage or ExtKeyUsage, its
 * usages must be exactly those spec.usages / spec.isCA yield (usage-check.ts). The denial names
 * spec.request with its bytes, as field.Invalid does.
 */
export const CERT_MANAGER_WEBHOOK: ValidatingWebhook = {
  webhook: 'webhook.cert-manager.io',
  check: (object, existing) => {
    if (existing !== undefined || !isRecord(object.spec)) return undefined;
    const spec = object.spec;
    const pem = decodeRequestPem(spec.request);
    if (pem === undefined) return undefined; // refused as invalid before admission
    const der = Buffer.from(pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    let details;
    try {
      details = readCsrDetails(der);
    } catch (error) {
      return `spec.request: Invalid value: ${goByteSlice(Buffer.from(pem))}: ${error instanceof Error ? error.message : String(error)}`;
    }
    const usages = Array.isArray(spec.usages) && spec.usages.length > 0 ? spec.usages.filter(isCertManagerUsage) : [...DEFAULT_USAGES];
    const mismatch = requestedUsagesMismatch(details, usages, spec.isCA === true);
    return mismatch === undefined ? undefined : `spec.request: Invalid value: ${goByteSlice(Buffer.from(pem))}: ${mismatch}`;
  },
};

export const CERTIFICATE_REQUEST_RESOURCE: ResourceDefinition = {
  group: CERT_MANAGER_GROUP,
  version: 'v1',
  kind: 'CertificateRequest',
  plural: 'certificaterequests',
  namespaced: true,
  allowUnconditionalUpdate: false,
  statusSubresource: true,
  validate: validateCertificateRequest,
  admission: CERT_MANAGER_WEBHOOK,
};

export const ISSUER_RESOURCE: ResourceDefinition = {
  group: CERT_MANAGER_GROUP,
  version: 'v1',
  kind: 'Issuer',
  plural: 'issuers',
  namespaced: true,
  allowUnconditionalUpdate: false,
  statusSubresource: true,
  validate: (object) => validateIssuerSpec(object),
};

export const CLUSTER_ISSUER_RESOURCE: ResourceDefinition = {
  group: CERT_MANAGER_GROUP,
  version: 'v1',
  kind: 'ClusterIssuer',
  plural: 'clusterissuers',
  namespaced: false,
  allowUnconditionalUpdate: false,
  statusSubresource: true,
  validate: (object) => validateIssuerSpec(object),
};
