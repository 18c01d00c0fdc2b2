// A leaf's DER in one pass: every length is known before anything is written, so a leaf costs
// two allocations (the TBSCertificate, then the signed certificate) instead of the ~25 small
// Buffers the generic writer (certificate.ts) concatenates level by level. What is the same for
// every leaf is pre-encoded: the issuer's parts (issuer.ts) and each key family's KeyUsage +
// ExtendedKeyUsage + BasicConstraints run. The bytes are exactly the generic writer's for the
// same inputs (leaf-der.test.ts compares them), so only the cost changes.
import type { KeyObject } from 'node:crypto';
import type { KeyFamily } from '@fsm-certs/core';
import { OID } from './der/oids.js';
import { TAG, contextTag, encodeOid, headerLength, writeHeaderAt } from './der/writer.js';
import { LEAF_BASIC_CONSTRAINTS, LEAF_EXT_KEY_USAGE, leafKeyUsageExtension, subjectKeyIdentifierExtension, type EncodedSans } from './extensions.js';
import type { IssuerParts } from './issuer.js';
import { signTbs } from './signing.js';

const VERSION_V3 = Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]);
const CN_OID = encodeOid(OID.commonName);
const SAN_OID = encodeOid(OID.subjectAltName);
const DNS_TAG = contextTag(2, false);
const URI_TAG = contextTag(6, false);
const IP_TAG = contextTag(7, false);
const EXTENSIONS_TAG = contextTag(3, true);
/** The SubjectKeyIdentifier extension up to its 20-byte key id. */
const SKI_HEAD = subjectKeyIdentifierExtension(Buffer.alloc(20)).subarray(0, 11);

/** The extensions every leaf of a key family starts with, in the generic writer's order. */
const FIXED_EXTENSIONS: Readonly<Record<KeyFamily, Buffer>> = {
  ec: Buffer.concat([leafKeyUsageExtension('ec'), LEAF_EXT_KEY_USAGE, LEAF_BASIC_CONSTRAINTS]),
  rsa: Buffer.concat([leafKeyUsageExtension('rsa'), LEAF_EXT_KEY_USAGE, LEAF_BASIC_CONSTRAINTS]),
};

export interface LeafDerParts {
  readonly serialDer: Buffer;
  readonly issuer: IssuerParts;
  /** Whole seconds (truncateToSeconds). */
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly commonName: string;
  readonly spki: Buffer;
  /** The certified key's family: decides the KeyUsage. */
  readonly family: KeyFamily;
  /** SubjectKeyIdentifier value (keyIdentifier of spki). */
  readonly keyId: Buffer;
  /** DNS names (the common name first), URIs, IP address bytes: already checked and de-duplicated. */
  readonly sans: EncodedSans;
}

/** A TLV's total size for a content of `length` bytes. */
function tlvSize(length: number): number {
  return headerLength(length) + length;
}

/** RFC 5280 §4.1.2.5 as time() in der/writer.ts: UTCTime through 2049, GeneralizedTime from 2050. */
function timeContentLength(date: Date): number {
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return 13;
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} cannot be encoded in a certificate`);
  return 15;
}

function writeDigits(out: Buffer, offset: number, value: number, digits: number): number {
  for (let i = digits - 1; i >= 0; i--) {
    out[offset + i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
  return offset + digits;
}

function writeTime(out: Buffer, offset: number, date: Date, contentLength: number): number {
  const year = date.getUTCFullYear();
  let at = writeHeaderAt(out, offset, contentLength === 13 ? TAG.UTC_TIME : TAG.GENERALIZED_TIME, contentLength);
  at = contentLength === 13 ? writeDigits(out, at, year % 100, 2) : writeDigits(out, at, year, 4);
  at = writeDigits(out, at, date.getUTCMonth() + 1, 2);
  at = writeDigits(out, at, date.getUTCDate(), 2);
  at = writeDigits(out, at, date.getUTCHours(), 2);
  at = writeDigits(out, at, date.getUTCMinutes(), 2);
  at = writeDigits(out, at, date.getUTCSeconds(), 2);
  out[at] = 0x5a; // 'Z'
  return at + 1;
}

/** The TBSCertificate of a leaf, as certificate.ts's encodeTbs would write it from the same parts. */
export function leafTbsDer(parts: LeafDerParts): Buffer {
  const { issuer, sans } = parts;
  const nbLength = timeContentLength(parts.notBefore);
  const naLength = timeContentLength(parts.notAfter);
  const validityContent = 2 + nbLength + 2 + naLength;

  // Name: SEQUENCE { SET { SEQUENCE { OID commonName, UTF8String } } }
  const cnBytes = Buffer.byteLength(parts.commonName, 'utf8');
  const attributeContent = CN_OID.length + tlvSize(cnBytes);
  const rdnContent = tlvSize(attributeContent);
  const nameContent = tlvSize(rdnContent);

  // SubjectAltName: names written as latin1, as the generic writer does.
  let namesContent = 0;
  for (const dns of sans.dnsNames) namesContent += tlvSize(dns.length);
  for (const uri of sans.uris) namesContent += tlvSize(uri.length);
  for (const ip of sans.ipAddresses) namesContent += tlvSize(ip.length);
  const sanValue = tlvSize(namesContent);
  const sanContent = SAN_OID.length + tlvSize(sanValue);

  const ski = parts.keyId.length === 20 ? undefined : subjectKeyIdentifierExtension(parts.keyId);
  const skiSize = ski === undefined ? 31 : ski.length;
  const fixed = FIXED_EXTENSIONS[parts.family];
  const extensionsContent = fixed.length + skiSize + issuer.authorityKeyIdentifier.length + tlvSize(sanContent);
  const extensionsField = tlvSize(tlvSize(extensionsContent));

  const tbsContent =
    VERSION_V3.length +
    parts.serialDer.length +
    issuer.signatureAlgorithm.length +
    issuer.issuerName.length +
    tlvSize(validityContent) +
    tlvSize(nameContent) +
    parts.spki.length +
    extensionsField;
  const out = Buffer.allocUnsafe(tlvSize(tbsContent));
  let at = writeHeaderAt(out, 0, TAG.SEQUENCE, tbsContent);
  at += VERSION_V3.copy(out, at);
  at += parts.serialDer.copy(out, at);
  at += issuer.signatureAlgorithm.copy(out, at);
  at += issuer.issuerName.copy(out, at);
  at = writeHeaderAt(out, at, TAG.SEQUENCE, validityContent);
  at = writeTime(out, at, parts.notBefore, nbLength);
  at = writeTime(out, at, parts.notAfter, naLength);
  at = writeHeaderAt(out, at, TAG.SEQUENCE, nameContent);
  at = writeHeaderAt(out, at, TAG.SET, rdnContent);
  at = writeHeaderAt(out, at, TAG.SEQUENCE, attributeContent);
  at += CN_OID.copy(out, at);
  at = writeHeaderAt(out, at, TAG.UTF8_STRING, cnBytes);
  at += out.write(parts.commonName, at, 'utf8');
  at += parts.spki.copy(out, at);
  at = writeHeaderAt(out, at, EXTENSIONS_TAG, tlvSize(extensionsContent));
  at = writeHeaderAt(out, at, TAG.SEQUENCE, extensionsContent);
  at += fixed.copy(out, at);
  if (ski === undefined) {
    // SEQUENCE { OID subjectKeyIdentifier, OCTET STRING { OCTET STRING (20 bytes) } }, as extensions.ts's fast path.
    at += SKI_HEAD.copy(out, at);
    at += parts.keyId.copy(out, at);
  } else {
    at += ski.copy(out, at);
  }
  at += issuer.authorityKeyIdentifier.copy(out, at);
  at = writeHeaderAt(out, at, TAG.SEQUENCE, sanContent);
  at += SAN_OID.copy(out, at);
  at = writeHeaderAt(out, at, TAG.OCTET_STRING, sanValue);
  at = writeHeaderAt(out, at, TAG.SEQUENCE, namesContent);
  for (const dns of sans.dnsNames) {
    at = writeHeaderAt(out, at, DNS_TAG, dns.length);
    at += out.write(dns, at, 'latin1');
  }
  for (const uri of sans.uris) {
    at = writeHeaderAt(out, at, URI_TAG, uri.length);
    at += out.write(uri, at, 'latin1');
  }
  for (const ip of sans.ipAddresses) {
    at = writeHeaderAt(out, at, IP_TAG, ip.length);
    at += ip.copy(out, at);
  }
  if (at !== out.length) throw new Error(`leaf TBS writer: wrote ${at} of ${out.length} bytes; this is a bug in libs/x509`);
  return out;
}

/** Certificate ::= SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }, in one allocation. */
export function signedCertificateDer(tbs: Buffer, signatureAlgorithm: Buffer, signingKey: KeyObject): Buffer {
  const signature = signTbs(tbs, signingKey);
  const bitStringContent = signature.length + 1;
  const content = tbs.length + signatureAlgorithm.length + tlvSize(bitStringContent);
  const out = Buffer.allocUnsafe(tlvSize(content));
  let at = writeHeaderAt(out, 0, TAG.SEQUENCE, content);
  at += tbs.copy(out, at);
  at += signatureAlgorithm.copy(out, at);
  at = writeHeaderAt(out, at, TAG.BIT_STRING, bitStringContent);
  out[at] = 0;
  at += 1 + signature.copy(out, at + 1);
  if (at !== out.length) throw new Error(`certificate writer: wrote ${at} of ${out.length} bytes; this is a bug in libs/x509`);
  return out;
}
