// What a PKCS#10 request asks for beyond names and key: its KeyUsage, ExtKeyUsage and
// BasicConstraints extensions. Signers that compare those with their own settings (cert-manager
// refuses a CertificateRequest whose spec.usages differ from the CSR's) need them as requested.
import { OID } from './der/oids.js';
import { children, content, decodeOid, DerError, expectTag, readRoot } from './der/reader.js';
import { X509Error } from './errors.js';
import { parseExtensions } from './parse-certificate.js';
import { pemBlocks } from './pem.js';

/** RFC 5280 §4.2.1.3 KeyUsage bits, by bit number. */
export const KEY_USAGE_BIT_NAMES = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageBitName = (typeof KEY_USAGE_BIT_NAMES)[number];

export interface CsrRequestedExtensions {
  /** KeyUsage bits set, in bit order; undefined when the CSR has no KeyUsage extension. */
  readonly keyUsage: readonly KeyUsageBitName[] | undefined;
  /** ExtKeyUsage OIDs in the CSR's order; undefined when the CSR has no ExtKeyUsage extension. */
  readonly extKeyUsageOids: readonly string[] | undefined;
  /** BasicConstraints cA; undefined when the CSR has no BasicConstraints extension. */
  readonly isCA: boolean | undefined;
}

function readKeyUsage(value: Buffer): KeyUsageBitName[] {
  const bits = content(value, expectTag(readRoot(value), 0x03, 'KeyUsage')).subarray(1);
  return KEY_USAGE_BIT_NAMES.filter((_, i) => (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) === 1);
}

function readExtKeyUsage(value: Buffer): string[] {
  return children(value, expectTag(readRoot(value), 0x30, 'ExtKeyUsage')).map((node) => decodeOid(content(value, expectTag(node, 0x06, 'KeyPurposeId'))));
}

function readIsCA(value: Buffer): boolean {
  const [first] = children(value, expectTag(readRoot(value), 0x30, 'BasicConstraints'));
  return first !== undefined && first.tag === 0x01 && content(value, first)[0] !== 0;
}

/** The usage-related extensions a PEM CSR requests. Does not verify the signature (parseCsr does). */
export function readCsrRequestedExtensions(pem: string): CsrRequestedExtensions {
  const block = pemBlocks(pem).find((b) => b.label === 'CERTIFICATE REQUEST' || b.label === 'NEW CERTIFICATE REQUEST');
  if (block === undefined) throw new X509Error('INVALID_CSR', 'the CSR is not a valid PKCS#10 request (no "-----BEGIN CERTIFICATE REQUEST-----" block found)');
  const der = block.der;
  try {
    const [info] = children(der, expectTag(readRoot(der), 0x30, 'CertificationRequest'));
    const [, , , attributes] = children(der, expectTag(info, 0x30, 'CertificationRequestInfo'));
    let requested: CsrRequestedExtensions = { keyUsage: undefined, extKeyUsageOids: undefined, isCA: undefined };
    for (const attribute of attributes === undefined ? [] : children(der, expectTag(attributes, 0xa0, 'attributes'))) {
      const [type, values] = children(der, expectTag(attribute, 0x30, 'Attribute'));
      if (decodeOid(content(der, expectTag(type, 0x06, 'attribute type'))) !== OID.extensionRequest) continue;
      const [extensions] = children(der, expectTag(values, 0x31, 'attribute values'));
      const found = parseExtensions(der, expectTag(extensions, 0x30, 'Extensions'));
      const keyUsage = found.get(OID.keyUsage);
      const extKeyUsage = found.get(OID.extKeyUsage);
      const basicConstraints = found.get(OID.basicConstraints);
      requested = {
        keyUsage: keyUsage === undefined ? undefined : readKeyUsage(keyUsage.value),
        extKeyUsageOids: extKeyUsage === undefined ? undefined : readExtKeyUsage(extKeyUsage.value),
        isCA: basicConstraints === undefined ? undefined : readIsCA(basicConstraints.value),
      };
    }
    return requested;
  } catch (cause) {
    if (cause instanceof DerError) throw new X509Error('INVALID_CSR', `the CSR is not a valid PKCS#10 request (${cause.message})`, { cause });
    throw cause;
  }
}
