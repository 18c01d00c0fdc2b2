// What an operator asks of a certificate: what `openssl x509 -text -noout` shows, and `-dates`.
import { createHash, type KeyObject } from 'node:crypto';
import { certificateText, formatOpensslDate } from './certificate-text.js';
import { children, content, decodeOid, expectTag, readRoot } from './der/reader.js';
import { OID, SIGNATURE_ALGORITHMS } from './der/oids.js';
import { commonNameOf, parseCertificateOrThrow, formatName, parseIsCa, parseKeyIdentifier, parseSubjectAltNames } from './parse-certificate.js';
import { certificateDer } from './pem.js';
import {
  authorityInfoAccess, crlDistributionPoints, extensionInfo, OID_AUTHORITY_INFO_ACCESS, OID_CRL_DISTRIBUTION_POINTS, pathLength,
  publicKeyInfo, subjectAltNameEntries,
} from './inspect-fields.js';
import { publicKeyFromSpki } from './spki.js';
import type { CertificateInfo } from './types.js';

const KEY_USAGE_NAMES = [
  'Digital Signature', 'Non Repudiation', 'Key Encipherment', 'Data Encipherment', 'Key Agreement',
  'Certificate Sign', 'CRL Sign', 'Encipher Only', 'Decipher Only',
];
const EKU_NAMES: Readonly<Record<string, string>> = {
  [OID.serverAuth]: 'TLS Web Server Authentication',
  [OID.clientAuth]: 'TLS Web Client Authentication',
  '1.3.6.1.5.5.7.3.3': 'Code Signing',
  '1.3.6.1.5.5.7.3.4': 'E-mail Protection',
  '1.3.6.1.5.5.7.3.8': 'Time Stamping',
  '1.3.6.1.5.5.7.3.9': 'OCSP Signing',
};
const CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

function colonHex(bytes: Buffer): string {
  return (bytes.toString('hex').toUpperCase().match(/../g) ?? []).join(':');
}

function keyUsageNames(value: Buffer | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const bits = content(value, expectTag(readRoot(value), 0x03, 'KeyUsage')).subarray(1);
  return KEY_USAGE_NAMES.filter((_, i) => (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) === 1);
}

function extKeyUsageNames(value: Buffer | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return children(value, expectTag(readRoot(value), 0x30, 'ExtKeyUsage')).map((n) => {
    const oid = decodeOid(content(value, n));
    return EKU_NAMES[oid] ?? oid;
  });
}

/** Inspection should still describe a certificate whose key OpenSSL cannot load. */
function readableKey(spki: Buffer): KeyObject | undefined {
  try {
    return publicKeyFromSpki(spki);
  } catch {
    return undefined;
  }
}

export function inspectCertificate(pem: string | Buffer): CertificateInfo {
  const der = certificateDer(pem);
  const cert = parseCertificateOrThrow(der, 'the certificate');
  const key = readableKey(cert.spki);
  const details = key?.asymmetricKeyDetails ?? {};
  const keyType = key?.asymmetricKeyType === 'ec' ? 'ec' : key?.asymmetricKeyType === 'rsa' ? 'rsa' : 'other';
  const keySize = keyType === 'ec' ? (CURVE_BITS[details.namedCurve ?? ''] ?? 0) : (details.modulusLength ?? 0);
  const ext = (oid: string): Buffer | undefined => cert.extensions.get(oid)?.value;
  const sans = parseSubjectAltNames(ext(OID.subjectAltName));
  const ski = parseKeyIdentifier(ext(OID.subjectKeyIdentifier), false);
  const aki = parseKeyIdentifier(ext(OID.authorityKeyIdentifier), true);
  const keyUsage = keyUsageNames(ext(OID.keyUsage));
  const extendedKeyUsage = extKeyUsageNames(ext(OID.extKeyUsage));
  const sanValue = ext(OID.subjectAltName);
  const basicConstraints = ext(OID.basicConstraints);
  const pathLen = basicConstraints === undefined ? undefined : pathLength(basicConstraints);
  const aia = ext(OID_AUTHORITY_INFO_ACCESS);
  const crlDp = ext(OID_CRL_DISTRIBUTION_POINTS);
  return {
    version: cert.version,
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    commonName: commonNameOf(cert.subject),
    serialNumber: cert.serial.toString('hex'),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    dnsNames: sans.dnsNames,
    uris: sans.uris,
    ipAddresses: sans.ipAddresses,
    isCA: parseIsCa(ext(OID.basicConstraints)),
    keyType,
    keySize,
    fingerprintSha256: colonHex(createHash('sha256').update(der).digest()),
    signatureAlgorithm: SIGNATURE_ALGORITHMS[cert.signatureAlgorithmOid]?.name ?? cert.signatureAlgorithmOid,
    ...(ski === undefined ? {} : { subjectKeyIdentifier: colonHex(ski) }),
    ...(aki === undefined ? {} : { authorityKeyIdentifier: colonHex(aki) }),
    ...(keyUsage === undefined ? {} : { keyUsage }),
    ...(extendedKeyUsage === undefined ? {} : { extendedKeyUsage }),
    publicKey: publicKeyInfo(cert.spki),
    extensions: [...cert.extensions].map(([oid, extension]) => extensionInfo(oid, extension.critical)),
    ...(sanValue === undefined ? {} : { subjectAltNames: subjectAltNameEntries(sanValue) }),
    ...(pathLen === undefined ? {} : { pathLength: pathLen }),
    ...(aia === undefined ? {} : { authorityInfoAccess: authorityInfoAccess(aia) }),
    ...(crlDp === undefined ? {} : { crlDistributionPoints: crlDistributionPoints(crlDp) }),
    signatureValue: cert.signature.toString('hex'),
  };
}

export { formatOpensslDate } from './certificate-text.js';

/**
 * Text for operators: with { dates: true } exactly what `openssl x509 -noout -dates` prints;
 * otherwise what `openssl x509 -noout -text -fingerprint -sha256` prints (see certificateText).
 */
export function formatInspection(info: CertificateInfo, opts: { dates?: boolean } = {}): string {
  if (opts.dates === true) return `notBefore=${formatOpensslDate(info.notBefore)}\nnotAfter=${formatOpensslDate(info.notAfter)}\n`;
  return certificateText(info);
}
