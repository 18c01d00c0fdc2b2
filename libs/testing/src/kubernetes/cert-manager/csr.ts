// Reads what a CA issuer needs from a PKCS#10 CSR beyond names and key (libs/x509's parseCsr
// covers those): the subject and SPKI as DER, and the requested KeyUsage / ExtKeyUsage /
// BasicConstraints / SubjectAltName extensions.
import { childrenOf, contentOf, decodeOid, readNamedBits, readNode, wholeOf } from './der.js';

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_EXT_KEY_USAGE = '2.5.29.37';
export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';

export interface CsrDetails {
  readonly subjectDer: Buffer;
  readonly spkiDer: Buffer;
  /** undefined when the CSR does not request a KeyUsage extension. */
  readonly keyUsageBits: readonly number[] | undefined;
  /** In the CSR's order (cert-manager compares them in order); undefined when not requested. */
  readonly extKeyUsageOids: readonly string[] | undefined;
  /** undefined when the CSR has no BasicConstraints extension. */
  readonly isCA: boolean | undefined;
  /** The whole SubjectAltName Extension as requested, copied into the certificate verbatim. */
  readonly subjectAltNameExtension: Buffer | undefined;
}

export function readCsrDetails(csrDer: Buffer): CsrDetails {
  const root = readNode(csrDer, 0);
  const [info] = childrenOf(csrDer, root);
  if (info === undefined) throw new Error('CSR: missing certificationRequestInfo');
  const [, subject, spki, attributes] = childrenOf(csrDer, info);
  if (subject === undefined || spki === undefined) throw new Error('CSR: missing subject or public key');
  let keyUsageBits: number[] | undefined;
  let extKeyUsageOids: string[] | undefined;
  let isCA: boolean | undefined;
  let subjectAltNameExtension: Buffer | undefined;
  for (const attribute of attributes === undefined ? [] : childrenOf(csrDer, attributes)) {
    const [type, values] = childrenOf(csrDer, attribute);
    if (type === undefined || values === undefined || decodeOid(contentOf(csrDer, type)) !== OID_EXTENSION_REQUEST) continue;
    const [extensions] = childrenOf(csrDer, values);
    if (extensions === undefined) continue;
    for (const extension of childrenOf(csrDer, extensions)) {
      const parts = childrenOf(csrDer, extension);
      const oidNode = parts[0];
      const valueNode = parts[parts.length - 1];
      if (oidNode === undefined || valueNode === undefined) continue;
      const oid = decodeOid(contentOf(csrDer, oidNode));
      const value = contentOf(csrDer, valueNode);
      const inner = value.length > 0 ? readNode(value, 0) : undefined;
      if (inner === undefined) continue;
      if (oid === OID_KEY_USAGE) keyUsageBits = readNamedBits(contentOf(value, inner));
      else if (oid === OID_EXT_KEY_USAGE) extKeyUsageOids = childrenOf(value, inner).map((node) => decodeOid(contentOf(value, node)));
      else if (oid === OID_BASIC_CONSTRAINTS) {
        const [first] = childrenOf(value, inner);
        isCA = first !== undefined && first.tag === 0x01 && contentOf(value, first)[0] !== 0;
      } else if (oid === OID_SUBJECT_ALT_NAME) subjectAltNameExtension = Buffer.from(wholeOf(csrDer, extension));
    }
  }
  return {
    subjectDer: Buffer.from(wholeOf(csrDer, subject)),
    spkiDer: Buffer.from(wholeOf(csrDer, spki)),
    keyUsageBits: keyUsageBits?.sort((a, b) => a - b),
    extKeyUsageOids,
    isCA,
    subjectAltNameExtension,
  };
}

/** The subject Name (DER) of a certificate, used as the issuer Name of what it signs. */
export function certificateSubjectDer(certDer: Buffer): Buffer {
  const root = readNode(certDer, 0);
  const [tbs] = childrenOf(certDer, root);
  if (tbs === undefined) throw new Error('certificate: missing tbsCertificate');
  const fields = childrenOf(certDer, tbs);
  // [0] version is optional: subject is the 6th field with it, the 5th without.
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[offset + 4];
  if (subject === undefined) throw new Error('certificate: missing subject');
  return Buffer.from(wholeOf(certDer, subject));
}
