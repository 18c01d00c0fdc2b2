// Decoders for the parts of a certificate that only inspection reads: the subject public key as
// numbers, and the extensions `openssl x509 -text` spells out (SANs in certificate order,
// BasicConstraints' pathlen, Authority Information Access, CRL Distribution Points).
import { children, content, decodeOid, expectTag, readRoot, unsignedIntegerBytes, type DerNode } from './der/reader.js';
import { OID } from './der/oids.js';
import { formatIpAddress } from './names.js';
import type { AccessDescriptionInfo, ExtensionInfo, PublicKeyInfo } from './types.js';

/** openssl's long names for extensions (OBJ_nid2ln), which `-text` prints as headers. */
const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  [OID.subjectKeyIdentifier]: 'X509v3 Subject Key Identifier',
  [OID.keyUsage]: 'X509v3 Key Usage',
  [OID.subjectAltName]: 'X509v3 Subject Alternative Name',
  '2.5.29.18': 'X509v3 Issuer Alternative Name',
  [OID.basicConstraints]: 'X509v3 Basic Constraints',
  '2.5.29.30': 'X509v3 Name Constraints',
  '2.5.29.31': 'X509v3 CRL Distribution Points',
  '2.5.29.32': 'X509v3 Certificate Policies',
  [OID.authorityKeyIdentifier]: 'X509v3 Authority Key Identifier',
  [OID.extKeyUsage]: 'X509v3 Extended Key Usage',
  '1.3.6.1.5.5.7.1.1': 'Authority Information Access',
  '1.3.6.1.4.1.11129.2.4.2': 'CT Precertificate SCTs',
};
export const OID_AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
export const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';
const ACCESS_METHODS: Readonly<Record<string, string>> = { '1.3.6.1.5.5.7.48.1': 'OCSP', '1.3.6.1.5.5.7.48.2': 'CA Issuers' };
/** Named curves: OID -> [OpenSSL short name, NIST name, field size in bits]. */
const CURVES: Readonly<Record<string, readonly [string, string, number]>> = {
  [OID.prime256v1]: ['prime256v1', 'P-256', 256],
  '1.3.132.0.34': ['secp384r1', 'P-384', 384],
  '1.3.132.0.35': ['secp521r1', 'P-521', 521],
};

export function extensionInfo(oid: string, critical: boolean): ExtensionInfo {
  return { oid, name: EXTENSION_NAMES[oid] ?? oid, critical };
}

function bitLength(magnitude: Buffer): number {
  const first = magnitude[0] ?? 0;
  return first === 0 ? 0 : (magnitude.length - 1) * 8 + (32 - Math.clz32(first));
}

/** The SubjectPublicKeyInfo as openssl describes it: algorithm, size, and the key's numbers in hex. */
export function publicKeyInfo(spki: Buffer): PublicKeyInfo {
  const [algorithm, bitString] = children(spki, expectTag(readRoot(spki), 0x30, 'SubjectPublicKeyInfo'));
  const [oidNode, params] = children(spki, expectTag(algorithm, 0x30, 'AlgorithmIdentifier'));
  const oid = decodeOid(content(spki, expectTag(oidNode, 0x06, 'algorithm')));
  const key = content(spki, expectTag(bitString, 0x03, 'subjectPublicKey')).subarray(1);
  if (oid === OID.ecPublicKey) {
    const curve = params?.tag === 0x06 ? CURVES[decodeOid(content(spki, params))] : undefined;
    return {
      algorithm: 'id-ecPublicKey',
      bits: curve?.[2] ?? 0,
      point: key.toString('hex'),
      ...(curve === undefined ? {} : { curve: curve[0], nistCurve: curve[1] }),
    };
  }
  if (oid === OID.rsaEncryption) {
    const [n, e] = children(key, expectTag(readRoot(key), 0x30, 'RSAPublicKey'));
    const modulus = unsignedIntegerBytes(content(key, expectTag(n, 0x02, 'modulus')), 'modulus');
    const exponent = unsignedIntegerBytes(content(key, expectTag(e, 0x02, 'exponent')), 'exponent');
    return { algorithm: 'rsaEncryption', bits: bitLength(modulus), modulus: modulus.toString('hex'), exponent: BigInt(`0x${exponent.toString('hex')}`).toString() };
  }
  return { algorithm: oid, bits: 0 };
}

/** openssl's IPv6 form: eight uppercase groups without zero compression (2001:DB8:0:0:0:0:0:1). */
function opensslIp(bytes: Buffer): string {
  if (bytes.length !== 16) return formatIpAddress(bytes);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16).toUpperCase());
  return groups.join(':');
}

/** One GeneralName as openssl's GENERAL_NAME_print writes it. */
function generalName(buf: Buffer, node: DerNode): string {
  const bytes = content(buf, node);
  switch (node.tag) {
    case 0x81:
      return `email:${bytes.toString('latin1')}`;
    case 0x82:
      return `DNS:${bytes.toString('latin1')}`;
    case 0x86:
      return `URI:${bytes.toString('latin1')}`;
    case 0x87:
      return `IP Address:${opensslIp(bytes)}`;
    case 0x88:
      return `Registered ID:${decodeOid(bytes)}`;
    default:
      return `<unsupported general name, tag 0x${node.tag.toString(16)}>`;
  }
}

/** SubjectAltName entries in certificate order, each as openssl prints it ("DNS:a", "IP Address:..."). */
export function subjectAltNameEntries(value: Buffer): string[] {
  return children(value, expectTag(readRoot(value), 0x30, 'GeneralNames')).map((name) => generalName(value, name));
}

/** pathLenConstraint of BasicConstraints, when present. */
export function pathLength(value: Buffer): number | undefined {
  const node = children(value, expectTag(readRoot(value), 0x30, 'BasicConstraints')).find((child) => child.tag === 0x02);
  return node === undefined ? undefined : Number(BigInt(`0x${unsignedIntegerBytes(content(value, node), 'pathLenConstraint').toString('hex')}`));
}

export function authorityInfoAccess(value: Buffer): AccessDescriptionInfo[] {
  return children(value, expectTag(readRoot(value), 0x30, 'AuthorityInfoAccess')).map((description) => {
    const [method, location] = children(value, expectTag(description, 0x30, 'AccessDescription'));
    const oid = decodeOid(content(value, expectTag(method, 0x06, 'accessMethod')));
    if (location === undefined) return { method: ACCESS_METHODS[oid] ?? oid, location: '' };
    return { method: ACCESS_METHODS[oid] ?? oid, location: generalName(value, location) };
  });
}

/** The fullName of each DistributionPoint, as openssl prints its GeneralNames. */
export function crlDistributionPoints(value: Buffer): string[][] {
  return children(value, expectTag(readRoot(value), 0x30, 'CRLDistributionPoints')).map((point) => {
    const name = children(value, expectTag(point, 0x30, 'DistributionPoint')).find((child) => child.tag === 0xa0);
    const fullName = name === undefined ? undefined : children(value, name).find((child) => child.tag === 0xa0);
    return fullName === undefined ? [] : children(value, fullName).map((entry) => generalName(value, entry));
  });
}
