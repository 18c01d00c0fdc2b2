// Name rules for what we put into certificates. Checked before signing, so a bad name is a 400
// with the offending value, never a certificate that some TLS stack later refuses.
import { isIP } from 'node:net';
import { X509Error } from './errors.js';

/** Letters and digits; `-` is allowed inside a label only. */
function isLetterOrDigit(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39);
}

/**
 * RFC 1123 host name, at most 253 characters, optionally with a leading "*." wildcard label:
 * labels of 1-63 letters, digits and inner hyphens. Read character by character (every
 * certificate's names pass here; a split and a regex per label allocated a string per label).
 */
export function isValidDnsName(name: string): boolean {
  if (typeof name !== 'string' || name.length === 0 || name.length > 253) return false;
  const start = name.length > 1 && name.charCodeAt(0) === 0x2a && name.charCodeAt(1) === 0x2e ? 2 : 0;
  let labelLength = 0;
  let previous = 0;
  for (let i = start; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code === 0x2e) {
      if (labelLength === 0 || previous === 0x2d) return false;
      labelLength = 0;
    } else if (isLetterOrDigit(code) || (code === 0x2d && labelLength > 0)) {
      labelLength += 1;
      if (labelLength > 63) return false;
    } else {
      return false;
    }
    previous = code;
  }
  return labelLength > 0 && previous !== 0x2d;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** SPIFFE ID of a workload: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>. */
export function buildSpiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  if (!TRUST_DOMAIN.test(trustDomain) || trustDomain.length > 255) {
    throw new X509Error('INVALID_NAME', `invalid SPIFFE trust domain ${JSON.stringify(trustDomain)}: use lowercase letters, digits, ".", "-" and "_"`);
  }
  for (const [what, value] of [['namespace', namespace], ['service account', serviceAccount]] as const) {
    if (!PATH_SEGMENT.test(value) || value === '.' || value === '..') {
      throw new X509Error('INVALID_NAME', `invalid ${what} ${JSON.stringify(value)} for a SPIFFE ID: use letters, digits, ".", "-" and "_"`);
    }
  }
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function assertDnsName(name: string, what: string): void {
  if (!isValidDnsName(name)) {
    throw new X509Error(
      'INVALID_NAME',
      `invalid ${what} ${JSON.stringify(name)}: use a DNS name of RFC 1123 labels (letters, digits, "-"), at most 253 characters, optionally starting with "*."`,
    );
  }
}

/** Absolute URI with a scheme, printable ASCII only (IA5String in the certificate). */
export function assertUri(uri: string): void {
  let ok = typeof uri === 'string' && uri.length > 0 && uri.length <= 2048 && /^[\x21-\x7e]+$/.test(uri);
  if (ok) {
    try {
      const parsed = new URL(uri);
      ok = /^[a-z][a-z0-9+.-]*:$/.test(parsed.protocol);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new X509Error('INVALID_NAME', `invalid URI SAN ${JSON.stringify(uri)}: use an absolute URI such as spiffe://cluster.local/ns/default/sa/app`);
}

function ipv6Bytes(address: string): Buffer {
  let text = address;
  const out = Buffer.alloc(16);
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = text.slice(lastColon + 1).split('.').map(Number);
    tail = [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)];
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  if (tail.length === 2) {
    out.writeUInt16BE(tail[0] ?? 0, 12);
    out.writeUInt16BE(tail[1] ?? 0, 14);
  }
  return out;
}

/** The 4 or 16 octets of an iPAddress SAN. */
export function ipAddressBytes(address: string): Buffer {
  const version = typeof address === 'string' ? isIP(address) : 0;
  if (version === 4) return Buffer.from(address.split('.').map(Number));
  if (version === 6 && !address.includes('%')) return ipv6Bytes(address);
  throw new X509Error('INVALID_NAME', `invalid IP address SAN ${JSON.stringify(address)}: use a literal IPv4 or IPv6 address`);
}

/** Text form of iPAddress SAN octets: dotted IPv4, RFC 5952 IPv6 (what operators type). */
export function formatIpAddress(bytes: Buffer): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    // WHATWG URL parsing yields the RFC 5952 canonical (compressed, lowercase) form.
    return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  }
  return `<invalid ${bytes.toString('hex')}>`;
}
