// What an operator asks of a certificate: `openssl x509 -text -noout` essentials and `-dates`.
import { createHash, type KeyObject } from 'node:crypto';
import { children, content, decodeOid, expectTag, readRoot } from './der/reader.js';
import { OID, SIGNATURE_ALGORITHMS } from './der/oids.js';
import { commonNameOf, parseCertificateOrThrow, formatName, parseIsCa, parseKeyIdentifier, parseSubjectAltNames } from './parse-certificate.js';
import { certificateDer } from './pem.js';
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
  return {
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
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** openssl's ASN1_TIME_print form: "Jan  2 03:04:05 2025 GMT". */
export function formatOpensslDate(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, ' ');
  const clock = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${MONTHS[date.getUTCMonth()] ?? '???'} ${day} ${clock} ${date.getUTCFullYear()} GMT`;
}

/** Text for operators, laid out like `openssl x509 -text -noout`, or `-dates` with { dates: true }. */
export function formatInspection(info: CertificateInfo, opts: { dates?: boolean } = {}): string {
  const notBefore = formatOpensslDate(info.notBefore);
  const notAfter = formatOpensslDate(info.notAfter);
  if (opts.dates === true) return `notBefore=${notBefore}\nnotAfter=${notAfter}\n`;
  const sans = [
    ...info.dnsNames.map((n) => `DNS:${n}`),
    ...info.uris.map((u) => `URI:${u}`),
    ...info.ipAddresses.map((ip) => `IP Address:${ip}`),
  ];
  const serialHex = info.serialNumber.length % 2 === 1 ? `0${info.serialNumber}` : info.serialNumber;
  const lines = [
    'Certificate:',
    '    Data:',
    '        Serial Number:',
    `            ${(serialHex.match(/../g) ?? []).join(':')}`,
    ...(info.signatureAlgorithm === undefined ? [] : [`        Signature Algorithm: ${info.signatureAlgorithm}`]),
    `        Issuer: ${info.issuer}`,
    '        Validity',
    `            Not Before: ${notBefore}`,
    `            Not After : ${notAfter}`,
    `        Subject: ${info.subject}`,
    '        Subject Public Key Info:',
    `            Public Key Algorithm: ${info.keyType === 'ec' ? 'id-ecPublicKey' : info.keyType === 'rsa' ? 'rsaEncryption' : 'other'}`,
    `                Public-Key: (${info.keySize} bit)`,
    '        X509v3 extensions:',
    '            X509v3 Basic Constraints:',
    `                CA:${info.isCA ? 'TRUE' : 'FALSE'}`,
    ...(info.keyUsage === undefined ? [] : ['            X509v3 Key Usage:', `                ${info.keyUsage.join(', ')}`]),
    ...(info.extendedKeyUsage === undefined ? [] : ['            X509v3 Extended Key Usage:', `                ${info.extendedKeyUsage.join(', ')}`]),
    ...(info.subjectKeyIdentifier === undefined ? [] : ['            X509v3 Subject Key Identifier:', `                ${info.subjectKeyIdentifier}`]),
    ...(info.authorityKeyIdentifier === undefined ? [] : ['            X509v3 Authority Key Identifier:', `                ${info.authorityKeyIdentifier}`]),
    ...(sans.length === 0 ? [] : ['            X509v3 Subject Alternative Name:', `                ${sans.join(', ')}`]),
    `SHA256 Fingerprint=${info.fingerprintSha256}`,
  ];
  return `${lines.join('\n')}\n`;
}
