// Builds the CSR a CertificateRequest carries. Server-key mode generates the key here (it never
// leaves this process); CSR mode uses the caller's CSR after checking that it asks only for the
// identity the caller was granted, because cert-manager signs a CSR's names as they are.
import { createHash, type KeyObject } from 'node:crypto';
import { keyFamilyOf } from '@fsm-certs/core';
import { createCsr, exportPrivateKeyPem, generateKeyPair, isX509Error, parseCsr, readCsrRequestedExtensions } from '@fsm-certs/x509';
import { ProviderError } from '../errors.js';
import type { IssueRequest } from '../provider.js';
import { csrModeUsages } from './csr-usages.js';
import { meshLeafUsages } from './resources.js';

export interface PreparedCsr {
  readonly csrPem: string;
  /** The key the certificate must certify. */
  readonly publicKey: KeyObject;
  /** Server-key mode only. */
  readonly privateKeyPem?: string;
  /**
   * spec.usages: the mesh leaf's for the key's family, or in CSR mode what the CSR requests when
   * it states usages (cert-manager's webhook refuses any difference).
   */
  readonly usages: readonly string[];
  readonly warnings: readonly string[];
}

function invalid(message: string, cause?: unknown): ProviderError {
  return new ProviderError('INVALID_REQUEST', message, cause === undefined ? {} : { cause });
}

function missingFrom(requested: readonly string[], granted: ReadonlySet<string>): string[] {
  return requested.filter((name) => !granted.has(name));
}

export function prepareCsr(request: IssueRequest): PreparedCsr {
  const dnsNames = [...new Set([request.commonName, ...request.dnsNames])];
  if (request.csrPem === undefined) {
    try {
      const keyPair = generateKeyPair(request.keyAlgorithm);
      const csrPem = createCsr({ commonName: request.commonName, dnsNames, uris: request.uris, ipAddresses: request.ipAddresses, keyPair });
      return {
        csrPem,
        publicKey: keyPair.publicKey,
        privateKeyPem: exportPrivateKeyPem(keyPair.privateKey),
        usages: meshLeafUsages(keyFamilyOf(keyPair.algorithm)),
        warnings: [],
      };
    } catch (error) {
      if (isX509Error(error)) throw invalid(`Cannot build a CSR for ${JSON.stringify(request.commonName)}: ${error.message}`, error);
      throw error;
    }
  }
  let parsed;
  try {
    parsed = parseCsr(request.csrPem);
  } catch (error) {
    if (isX509Error(error)) throw invalid(`The CSR is not usable: ${error.message}`, error);
    throw error;
  }
  if (parsed.commonName !== request.commonName) {
    throw invalid(
      `The CSR's common name ${JSON.stringify(parsed.commonName ?? '')} is not the identity being issued (${JSON.stringify(request.commonName)}); cert-manager signs the CSR as it is, so create the CSR with CN=${request.commonName}.`,
    );
  }
  const notGranted = [
    ...missingFrom(parsed.dnsNames, new Set(dnsNames)),
    ...missingFrom(parsed.uris, new Set(request.uris)),
    ...missingFrom(parsed.ipAddresses, new Set(request.ipAddresses)),
  ];
  if (notGranted.length > 0) {
    throw invalid(`The CSR asks for names this caller may not have: ${notGranted.join(', ')}. Remove them from the CSR.`);
  }
  const csrUsages = csrModeUsages(readCsrRequestedExtensions(parsed.pem), keyFamilyOf(parsed.keyAlgorithm));
  const notRequested = [
    ...missingFrom(dnsNames, new Set(parsed.dnsNames)),
    ...missingFrom(request.uris, new Set(parsed.uris)),
    ...missingFrom(request.ipAddresses, new Set(parsed.ipAddresses)),
  ];
  const warnings = [
    ...(notRequested.length === 0
      ? []
      : [`cert-manager signs the CSR's names only; the certificate lacks these requested SANs the CSR does not contain: ${notRequested.join(', ')}`]),
    ...csrUsages.warnings,
  ];
  return { csrPem: parsed.pem, publicKey: parsed.publicKey, usages: csrUsages.usages, warnings };
}

/** Label value identifying the common name (label values are limited to 63 characters). */
export function commonNameHash(commonName: string): string {
  return createHash('sha256').update(commonName).digest('hex').slice(0, 40);
}
