// The emulated CA issuer's signing step. The usages a mesh leaf carries for its key family go
// through @fsm-certs/x509's issueLeaf (the code the product ships); any other usages or isCA go
// through the fixture's own builder, which honours them exactly, as cert-manager does (it never
// drops a usage because of the key type).
import { keyFamilyOf, leafKeyUsages, type KeyUsage } from '@fsm-certs/core';
import { issueLeaf, type Issuer, type ParsedCsr } from '@fsm-certs/x509';
import { buildCertificate } from './certificate-builder.js';
import type { CsrDetails } from './csr.js';
import { toX509Usages, type CertManagerUsage } from './usages.js';

export interface SignInput {
  readonly csrPem: string;
  readonly csr: CsrDetails;
  /** Verified by libs/x509's parseCsr (signature checked). */
  readonly parsedCsr: ParsedCsr;
  readonly usages: readonly CertManagerUsage[];
  readonly isCA: boolean;
  readonly durationMs: number;
  readonly issuer: Issuer;
  readonly now: Date;
}

/** Returns the signed certificate as DER. Throws with a message fit for a Failed condition. */
export type CaSigner = (input: SignInput) => Buffer;

const CERT_MANAGER_SPELLING: Readonly<Record<KeyUsage, CertManagerUsage>> = {
  digitalSignature: 'digital signature',
  keyEncipherment: 'key encipherment',
  keyAgreement: 'key agreement',
};
const MESH_EXT_KEY_USAGES = ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']; // serverAuth, clientAuth

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** The KeyUsage bits issueLeaf gives a leaf with this CSR's key. */
function meshKeyUsageBits(csr: ParsedCsr): readonly number[] {
  return toX509Usages(leafKeyUsages(keyFamilyOf(csr.keyAlgorithm)).map((usage) => CERT_MANAGER_SPELLING[usage])).keyUsageBits;
}

export const defaultCaSigner: CaSigner = (input) => {
  const usages = toX509Usages(input.usages);
  const parsed = input.parsedCsr;
  const meshLeaf =
    !input.isCA &&
    sameList(usages.keyUsageBits, meshKeyUsageBits(parsed)) &&
    sameList(usages.extKeyUsageOids, MESH_EXT_KEY_USAGES) &&
    parsed.commonName !== undefined;
  if (meshLeaf && parsed.commonName !== undefined) {
    return issueLeaf(input.issuer, {
      commonName: parsed.commonName,
      dnsNames: parsed.dnsNames,
      uris: parsed.uris,
      ipAddresses: parsed.ipAddresses,
      publicKey: parsed.publicKey,
      validityMs: input.durationMs,
      now: input.now,
    }).certificateDer;
  }
  const notAfterMs = Math.min(input.now.getTime() + input.durationMs, input.issuer.notAfter.getTime());
  return buildCertificate(
    { csr: input.csr, usages, isCA: input.isCA, notBefore: input.now, notAfter: new Date(notAfterMs) },
    { certificateDer: input.issuer.certificateDer, privateKey: input.issuer.privateKey },
  );
};
