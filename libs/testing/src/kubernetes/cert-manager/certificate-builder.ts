// Builds a certificate exactly as a CertificateRequest asks: subject, key and SANs from the CSR,
// KeyUsage / ExtKeyUsage from spec.usages, BasicConstraints from spec.isCA, validity from
// spec.duration capped at the CA's notAfter (what cert-manager's CA issuer does).
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import type { CsrDetails } from './csr.js';
import { certificateSubjectDer, OID_BASIC_CONSTRAINTS, OID_EXT_KEY_USAGE, OID_KEY_USAGE } from './csr.js';
import { DER_NULL, DER_TRUE, encodeOid, explicit, namedBits, octetString, sequence, time, tlv, unsignedInteger } from './der.js';
import type { X509Usages } from './usages.js';

const KEY_CERT_SIGN_BIT = 5;

export interface CertificateTemplate {
  readonly csr: CsrDetails;
  readonly usages: X509Usages;
  readonly isCA: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface SigningCa {
  readonly certificateDer: Buffer;
  readonly privateKey: KeyObject;
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence([encodeOid(oid), ...(critical ? [DER_TRUE] : []), octetString(value)]);
}

function signatureAlgorithm(key: KeyObject): Buffer {
  // ecdsa-with-SHA256 has no parameters; sha256WithRSAEncryption has NULL (RFC 5758, RFC 4055).
  return key.asymmetricKeyType === 'ec'
    ? sequence([encodeOid('1.2.840.10045.4.3.2')])
    : sequence([encodeOid('1.2.840.113549.1.1.11'), DER_NULL]);
}

function randomPositiveSerial(): Buffer {
  const serial = randomBytes(16);
  // Clear the top bit (positive) and keep the first byte non-zero (minimal encoding, 120+ bits).
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  return serial;
}

/** Returns the DER certificate. */
export function buildCertificate(template: CertificateTemplate, ca: SigningCa): Buffer {
  const keyUsageBits = template.isCA ? [...new Set([...template.usages.keyUsageBits, KEY_CERT_SIGN_BIT])].sort((a, b) => a - b) : template.usages.keyUsageBits;
  const extensions: Buffer[] = [extension(OID_BASIC_CONSTRAINTS, true, sequence(template.isCA ? [DER_TRUE] : []))];
  if (keyUsageBits.length > 0) extensions.push(extension(OID_KEY_USAGE, true, namedBits(keyUsageBits)));
  if (template.usages.extKeyUsageOids.length > 0) {
    extensions.push(extension(OID_EXT_KEY_USAGE, false, sequence(template.usages.extKeyUsageOids.map(encodeOid))));
  }
  if (template.csr.subjectAltNameExtension !== undefined) extensions.push(template.csr.subjectAltNameExtension);
  const algorithm = signatureAlgorithm(ca.privateKey);
  const tbs = sequence([
    explicit(0, Buffer.from([0x02, 0x01, 0x02])), // v3
    unsignedInteger(randomPositiveSerial()),
    algorithm,
    certificateSubjectDer(ca.certificateDer),
    sequence([time(template.notBefore), time(template.notAfter)]),
    template.csr.subjectDer,
    template.csr.spkiDer,
    explicit(3, sequence(extensions)),
  ]);
  const signature = sign('sha256', tbs, ca.privateKey);
  return sequence([tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))]);
}

