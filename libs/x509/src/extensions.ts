// Extension encoders. Constant extensions are encoded once at module load.
import { leafKeyUsages, type KeyFamily, type KeyUsage } from '@fsm-certs/core';
import { OID } from './der/oids.js';
import { contextTag, DER_TRUE, encodeOid, octetString, sequence, tlv } from './der/writer.js';

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  const parts = critical ? [encodeOid(oid), DER_TRUE, octetString(value)] : [encodeOid(oid), octetString(value)];
  return sequence(parts);
}

/** KeyUsage as a BIT STRING with the given first byte and unused-bit count. */
function keyUsage(firstByte: number, unusedBits: number): Buffer {
  return extension(OID.keyUsage, true, Buffer.from([0x03, 0x02, unusedBits, firstByte]));
}

/** RFC 5280 §4.2.1.3 bit numbers of the usages a leaf may carry. */
const KEY_USAGE_BIT: Readonly<Record<KeyUsage, number>> = { digitalSignature: 0, keyEncipherment: 2, keyAgreement: 4 };

/** A DER named-bit BIT STRING keeps no trailing zero bits, so the unused-bit count follows the highest bit set. */
function keyUsageFor(usages: readonly KeyUsage[]): Buffer {
  let byte = 0;
  let highest = 0;
  for (const usage of usages) {
    const bit = KEY_USAGE_BIT[usage];
    byte |= 0x80 >> bit;
    highest = Math.max(highest, bit);
  }
  return keyUsage(byte, 7 - highest);
}

/** The leaf KeyUsage of each key family (core's leafKeyUsages): EC digitalSignature; RSA + keyEncipherment. */
const LEAF_KEY_USAGE_BY_FAMILY: Readonly<Record<KeyFamily, Buffer>> = {
  ec: keyUsageFor(leafKeyUsages('ec')),
  rsa: keyUsageFor(leafKeyUsages('rsa')),
};

export function leafKeyUsageExtension(family: KeyFamily): Buffer {
  return LEAF_KEY_USAGE_BY_FAMILY[family];
}
/** digitalSignature (0) + keyCertSign (5) + cRLSign (6): 1000 0110, 1 unused bit. */
export const CA_KEY_USAGE = keyUsage(0x86, 1);
export const LEAF_EXT_KEY_USAGE = extension(OID.extKeyUsage, false, sequence([encodeOid(OID.serverAuth), encodeOid(OID.clientAuth)]));
/** cA defaults to FALSE, so DER encodes CA:FALSE as an empty SEQUENCE. */
export const LEAF_BASIC_CONSTRAINTS = extension(OID.basicConstraints, true, Buffer.from([0x30, 0x00]));
export const CA_BASIC_CONSTRAINTS = extension(OID.basicConstraints, true, sequence([DER_TRUE]));

const SKI_OID = encodeOid(OID.subjectKeyIdentifier);
const SKI_HEAD = Buffer.concat([Buffer.from([0x30, 0x1d]), SKI_OID, Buffer.from([0x04, 0x16, 0x04, 0x14])]);

/** Fast path for the common 20-byte SHA-1 key id: fixed header + id. */
export function subjectKeyIdentifierExtension(keyId: Buffer): Buffer {
  if (keyId.length === 20) return Buffer.concat([SKI_HEAD, keyId], SKI_HEAD.length + 20);
  return extension(OID.subjectKeyIdentifier, false, octetString(keyId));
}

export function authorityKeyIdentifierExtension(keyId: Buffer): Buffer {
  return extension(OID.authorityKeyIdentifier, false, sequence([tlv(contextTag(0, false), keyId)]));
}

export interface EncodedSans {
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  readonly ipAddresses: readonly Buffer[];
}

/** GeneralNames: dNSName [2], uniformResourceIdentifier [6], iPAddress [7] (all IA5/octets, implicit). */
export function subjectAltNameExtension(sans: EncodedSans): Buffer {
  const names: Buffer[] = [];
  for (const dns of sans.dnsNames) names.push(tlv(contextTag(2, false), Buffer.from(dns, 'latin1')));
  for (const uri of sans.uris) names.push(tlv(contextTag(6, false), Buffer.from(uri, 'latin1')));
  for (const ip of sans.ipAddresses) names.push(tlv(contextTag(7, false), ip));
  return extension(OID.subjectAltName, false, sequence(names));
}

/** extensions [3] EXPLICIT SEQUENCE OF Extension. */
export function extensionsField(extensions: readonly Buffer[]): Buffer {
  return tlv(contextTag(3, true), sequence(extensions));
}
