// The usages a CertificateRequest asks for in CSR mode. cert-manager's webhook refuses a request
// whose CSR requests KeyUsage / ExtKeyUsage other than exactly what spec.usages yields (bits
// equal, ExtKeyUsages in the same order), so a CSR that states its usages gets those usages —
// when the mesh allows them for its key — and anything beyond the mesh's set is refused here,
// with a 400 that names it, before any object is created.
import { LEAF_EXTENDED_KEY_USAGES, leafKeyUsages, type KeyFamily } from '@fsm-certs/core';
import type { CsrRequestedExtensions, KeyUsageBitName } from '@fsm-certs/x509';
import { ProviderError } from '../errors.js';
import { meshLeafUsages } from './resources.js';

/** cert-manager's spelling (its KeyUsage enum) of each X.509 KeyUsage bit. */
const CERT_MANAGER_KEY_USAGE: Readonly<Record<KeyUsageBitName, string>> = {
  digitalSignature: 'digital signature',
  contentCommitment: 'content commitment',
  keyEncipherment: 'key encipherment',
  dataEncipherment: 'data encipherment',
  keyAgreement: 'key agreement',
  keyCertSign: 'cert sign',
  cRLSign: 'crl sign',
  encipherOnly: 'encipher only',
  decipherOnly: 'decipher only',
};

/** ExtKeyUsage OIDs by RFC 5280 name, with cert-manager's spelling where the mesh may use them. */
const EXT_KEY_USAGES: Readonly<Record<string, { readonly name: string; readonly certManager?: string }>> = {
  '1.3.6.1.5.5.7.3.1': { name: 'serverAuth', certManager: 'server auth' },
  '1.3.6.1.5.5.7.3.2': { name: 'clientAuth', certManager: 'client auth' },
  '1.3.6.1.5.5.7.3.3': { name: 'codeSigning' },
  '1.3.6.1.5.5.7.3.4': { name: 'emailProtection' },
  '1.3.6.1.5.5.7.3.8': { name: 'timeStamping' },
  '1.3.6.1.5.5.7.3.9': { name: 'OCSPSigning' },
  '2.5.29.37.0': { name: 'anyExtendedKeyUsage' },
};

function ekuName(oid: string): string {
  return EXT_KEY_USAGES[oid]?.name ?? oid;
}

export interface CsrUsages {
  /** spec.usages, in cert-manager's spelling: KeyUsages in bit order, then ExtKeyUsages in the CSR's order. */
  readonly usages: readonly string[];
  readonly warnings: readonly string[];
}

function refuse(message: string): ProviderError {
  return new ProviderError('INVALID_REQUEST', message);
}

/**
 * spec.usages for a caller's CSR with a key of `family`: the mesh leaf's when the CSR requests no
 * KeyUsage / ExtKeyUsage; otherwise exactly what it requests, if the mesh grants all of it.
 */
export function csrModeUsages(requested: CsrRequestedExtensions, family: KeyFamily): CsrUsages {
  const allowedKeyUsage: readonly string[] = leafKeyUsages(family);
  const allowedExtKeyUsage: readonly string[] = LEAF_EXTENDED_KEY_USAGES;
  const allowed = `keyUsage ${allowedKeyUsage.join(', ')}; extendedKeyUsage ${allowedExtKeyUsage.join(', ')}`;
  if (requested.isCA === true) {
    throw refuse('The CSR asks for a CA certificate (basicConstraints CA:TRUE); mesh certificates are leaves. Create the CSR without CA:TRUE.');
  }
  if (requested.keyUsage === undefined && requested.extKeyUsageOids === undefined) {
    return { usages: meshLeafUsages(family), warnings: [] };
  }
  const keyUsage = requested.keyUsage ?? [];
  const extKeyUsage = (requested.extKeyUsageOids ?? []).map(ekuName);
  const beyond = [...keyUsage.filter((u) => !allowedKeyUsage.includes(u)), ...extKeyUsage.filter((u) => !allowedExtKeyUsage.includes(u))];
  if (beyond.length > 0) {
    throw refuse(
      `The CSR requests usages the mesh does not grant to ${family === 'ec' ? 'an EC' : 'an RSA'} key: ${[...new Set(beyond)].join(', ')}. ` +
        `Allowed: ${allowed}. Remove them from the CSR (or omit the keyUsage / extendedKeyUsage extensions to get the mesh's).`,
    );
  }
  const usages = [
    ...keyUsage.map((u) => CERT_MANAGER_KEY_USAGE[u]),
    ...(requested.extKeyUsageOids ?? []).map((oid) => EXT_KEY_USAGES[oid]?.certManager ?? oid),
  ];
  if (usages.length === 0) {
    // cert-manager would read an empty list as its default (digital signature, key encipherment).
    throw refuse(`The CSR requests an empty keyUsage and no extendedKeyUsage; request some of ${allowed}, or omit the extensions.`);
  }
  const missing = [...allowedKeyUsage.filter((u) => !keyUsage.includes(u as KeyUsageBitName)), ...allowedExtKeyUsage.filter((u) => !extKeyUsage.includes(u))];
  const warnings =
    missing.length === 0
      ? []
      : [`the certificate carries only the usages the CSR requests; a mesh leaf for this key would also have: ${missing.join(', ')}`];
  return { usages, warnings };
}
