// `openssl x509 -noout -text -fingerprint -sha256`, line for line (OpenSSL 3's X509_print_ex
// layout), from an inspected certificate, so an operator can diff our output against openssl's.
// Decoded the way openssl decodes them: Basic Constraints, Key Usage, Extended Key Usage, Subject
// and Authority Key Identifier (key id), Subject Alternative Name (DNS, URI, IP, email), Authority
// Information Access and CRL Distribution Points (full names). Any other extension is listed by
// name with its critical flag, and a line saying it is not decoded here.
import type { CertificateInfo, PublicKeyInfo } from './types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LONG_MAX = (1n << 63n) - 1n;

/** openssl's ASN1_TIME_print form: "Jan  2 03:04:05 2025 GMT". */
export function formatOpensslDate(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, ' ');
  const clock = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${MONTHS[date.getUTCMonth()] ?? '???'} ${day} ${clock} ${date.getUTCFullYear()} GMT`;
}

/** Colon-separated lowercase hex bytes, `perLine` to a line, each line but the last ending in ':'. */
function hexRows(hex: string, perLine: number, indent: number): string[] {
  const bytes = hex.match(/../g) ?? [];
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += perLine) {
    const last = i + perLine >= bytes.length;
    rows.push(`${' '.repeat(indent)}${bytes.slice(i, i + perLine).join(':')}${last ? '' : ':'}`);
  }
  return rows;
}

/** Small serials print as "4096 (0x1000)" on the header line, others as hex on the next line. */
function serialLines(serialHex: string): string[] {
  const hex = serialHex.length % 2 === 1 ? `0${serialHex}` : serialHex;
  const value = BigInt(`0x${hex === '' ? '0' : hex}`);
  if (hex.length <= 16 && value <= LONG_MAX) return [`        Serial Number: ${value} (0x${value.toString(16)})`];
  return ['        Serial Number:', `            ${(hex.match(/../g) ?? []).join(':')}`];
}

function publicKeyLines(key: PublicKeyInfo): string[] {
  const lines = [`            Public Key Algorithm: ${key.algorithm}`];
  if (key.point !== undefined) {
    lines.push(`                Public-Key: (${key.bits} bit)`, '                pub:', ...hexRows(key.point, 15, 20));
    if (key.curve !== undefined) lines.push(`                ASN1 OID: ${key.curve}`);
    if (key.nistCurve !== undefined) lines.push(`                NIST CURVE: ${key.nistCurve}`);
  } else if (key.modulus !== undefined && key.exponent !== undefined) {
    // openssl prints the modulus as a positive INTEGER's bytes: a leading 00 when the top bit is set.
    const modulus = Number.parseInt(key.modulus.slice(0, 2), 16) >= 0x80 ? `00${key.modulus}` : key.modulus;
    lines.push(`                Public-Key: (${key.bits} bit)`, '                Modulus:', ...hexRows(modulus, 15, 20));
    lines.push(`                Exponent: ${key.exponent} (0x${BigInt(key.exponent).toString(16)})`);
  } else {
    lines.push('                (key not decoded here; run openssl x509 -text)');
  }
  return lines;
}

/** The value lines of one extension, indented as openssl indents them. */
function extensionValue(info: CertificateInfo, oid: string): string[] {
  const line = (text: string): string[] => [`                ${text}`];
  switch (oid) {
    case '2.5.29.19':
      return line(`CA:${info.isCA ? 'TRUE' : 'FALSE'}${info.pathLength === undefined ? '' : `, pathlen:${info.pathLength}`}`);
    case '2.5.29.15':
      return line((info.keyUsage ?? []).join(', '));
    case '2.5.29.37':
      return line((info.extendedKeyUsage ?? []).join(', '));
    case '2.5.29.14':
      return line(info.subjectKeyIdentifier ?? '');
    case '2.5.29.35':
      return line(info.authorityKeyIdentifier ?? '');
    case '2.5.29.17':
      return line((info.subjectAltNames ?? []).join(', '));
    case '1.3.6.1.5.5.7.1.1':
      return (info.authorityInfoAccess ?? []).flatMap((entry) => line(`${entry.method} - ${entry.location}`));
    case '2.5.29.31':
      return (info.crlDistributionPoints ?? []).flatMap((names) => ['                Full Name:', ...names.map((name) => `                  ${name}`)]);
    default:
      return line('(not decoded here; run openssl x509 -text)');
  }
}

export function certificateText(info: CertificateInfo): string {
  const signatureAlgorithm = info.signatureAlgorithm ?? 'unknown';
  const lines = [
    'Certificate:',
    '    Data:',
    `        Version: ${info.version} (0x${(info.version - 1).toString(16)})`,
    ...serialLines(info.serialNumber),
    `        Signature Algorithm: ${signatureAlgorithm}`,
    `        Issuer: ${info.issuer}`,
    '        Validity',
    `            Not Before: ${formatOpensslDate(info.notBefore)}`,
    `            Not After : ${formatOpensslDate(info.notAfter)}`,
    `        Subject: ${info.subject}`,
    '        Subject Public Key Info:',
    ...publicKeyLines(info.publicKey),
  ];
  if (info.extensions.length > 0) {
    lines.push('        X509v3 extensions:');
    for (const extension of info.extensions) {
      // openssl writes ": critical" or ": " (with the trailing space) after the name.
      lines.push(`            ${extension.name}: ${extension.critical ? 'critical' : ''}`, ...extensionValue(info, extension.oid));
    }
  }
  lines.push(`    Signature Algorithm: ${signatureAlgorithm}`, '    Signature Value:', ...hexRows(info.signatureValue, 18, 8));
  lines.push(`sha256 Fingerprint=${info.fingerprintSha256}`);
  return `${lines.join('\n')}\n`;
}
