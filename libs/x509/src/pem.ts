import { createHash, X509Certificate } from 'node:crypto';
import { X509Error } from './errors.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/** Wraps base64 at 64 columns (RFC 7468), which every PEM reader accepts. */
export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const [, label = '', body = ''] = match;
    if (!BASE64_BODY.test(body) || body.includes(':')) {
      throw new X509Error('INVALID_PEM', `the PEM block "${label}" is not plain base64 (encrypted or corrupted); provide an unencrypted PEM`);
    }
    const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
    if (der.length === 0) throw new X509Error('INVALID_PEM', `the PEM block "${label}" is empty`);
    out.push({ label, der });
  }
  return out;
}

/** DER of the first PEM block (any label). */
export function pemToDer(pem: string): Buffer {
  if (typeof pem !== 'string') throw new X509Error('INVALID_PEM', 'expected PEM text, got a non-string value');
  const [first] = pemBlocks(pem);
  if (first === undefined) {
    throw new X509Error('INVALID_PEM', 'no "-----BEGIN ...-----" PEM block found; pass the PEM file contents, not a path or base64 alone');
  }
  return first.der;
}

/** Every CERTIFICATE block of a bundle, each re-encoded as a normalized PEM string. */
export function splitPemBundle(text: string): string[] {
  return pemBlocks(text)
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block) => derToPem(block.der));
}

/** Certificate DER from PEM text or DER bytes (a Buffer that looks like PEM is treated as PEM). */
export function certificateDer(certPemOrDer: string | Buffer): Buffer {
  if (typeof certPemOrDer === 'string') return pemToDer(certPemOrDer);
  if (certPemOrDer.length > 0 && certPemOrDer[0] === 0x30) return certPemOrDer;
  return pemToDer(certPemOrDer.toString('latin1'));
}

/** SHA-256 over the certificate DER, lowercase hex without colons: a stable certificate id. */
export function fingerprintSha256(certPemOrDer: string | Buffer): string {
  return createHash('sha256').update(certificateDer(certPemOrDer)).digest('hex');
}

/** Parses with OpenSSL (through node) so every certificate we hand out is one OpenSSL accepts. */
export function parseX509(der: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (cause) {
    throw new X509Error('INVALID_PEM', `${what} is not a valid X.509 certificate; check that the PEM is complete and not corrupted`, { cause });
  }
}
