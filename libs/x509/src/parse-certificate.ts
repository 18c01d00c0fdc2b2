// Reads the fields of a certificate (and the shared pieces of a CSR) with the strict DER reader.
// Used off the hot path: inspection, loading an issuer, parsing CSRs.
import {
  children, content, decodeOid, decodeTime, DerError, expectTag, readRoot, unsignedIntegerBytes, whole,
  type DerNode,
} from './der/reader.js';
import { NAME_ATTRIBUTE_SHORT_NAMES, OID } from './der/oids.js';
import { X509Error } from './errors.js';
import { formatIpAddress } from './names.js';

export interface NameAttribute {
  readonly oid: string;
  readonly shortName: string;
  readonly value: string;
}

export interface ParsedName {
  readonly der: Buffer;
  readonly attributes: readonly NameAttribute[];
}

export interface ParsedExtension {
  readonly critical: boolean;
  readonly value: Buffer;
}

export interface ParsedSans {
  readonly dnsNames: string[];
  readonly uris: string[];
  readonly ipAddresses: string[];
}

export interface ParsedCertificate {
  readonly der: Buffer;
  readonly tbs: Buffer;
  readonly version: number;
  readonly serial: Buffer;
  readonly signatureAlgorithmOid: string;
  readonly issuer: ParsedName;
  readonly subject: ParsedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Buffer;
  readonly extensions: ReadonlyMap<string, ParsedExtension>;
  readonly signature: Buffer;
}

function decodeString(buf: Buffer, node: DerNode): string {
  const bytes = content(buf, node);
  switch (node.tag) {
    case 0x0c: // UTF8String
      return bytes.toString('utf8');
    case 0x1e: { // BMPString, UCS-2 big endian
      const swapped = Buffer.from(bytes);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    default: // PrintableString, IA5String, T61String, ...
      return bytes.toString('latin1');
  }
}

export function parseName(buf: Buffer, node: DerNode): ParsedName {
  expectTag(node, 0x30, 'Name');
  const attributes: NameAttribute[] = [];
  for (const rdn of children(buf, node)) {
    for (const atv of children(buf, expectTag(rdn, 0x31, 'RelativeDistinguishedName'))) {
      const [type, value] = children(buf, expectTag(atv, 0x30, 'AttributeTypeAndValue'));
      const oid = decodeOid(content(buf, expectTag(type, 0x06, 'attribute type')));
      if (value === undefined) throw new DerError('attribute value is missing');
      attributes.push({ oid, shortName: NAME_ATTRIBUTE_SHORT_NAMES[oid] ?? oid, value: decodeString(buf, value) });
    }
  }
  return { der: whole(buf, node), attributes };
}

/** openssl's default one-line form: "O = Flomesh Service Mesh, CN = fsm-ca.flomesh.io". */
export function formatName(name: ParsedName): string {
  return name.attributes.map((a) => `${a.shortName} = ${a.value}`).join(', ');
}

export function commonNameOf(name: ParsedName): string | undefined {
  return name.attributes.findLast((a) => a.oid === OID.commonName)?.value;
}

export function parseExtensions(buf: Buffer, node: DerNode): Map<string, ParsedExtension> {
  const out = new Map<string, ParsedExtension>();
  for (const ext of children(buf, expectTag(node, 0x30, 'Extensions'))) {
    const parts = children(buf, expectTag(ext, 0x30, 'Extension'));
    const oid = decodeOid(content(buf, expectTag(parts[0], 0x06, 'extension id')));
    const critical = parts.length === 3 && parts[1]?.tag === 0x01 && buf[parts[1].contentStart] !== 0;
    const value = content(buf, expectTag(parts[parts.length - 1], 0x04, 'extension value'));
    if (out.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    out.set(oid, { critical, value });
  }
  return out;
}

export function parseSubjectAltNames(value: Buffer | undefined): ParsedSans {
  const sans: ParsedSans = { dnsNames: [], uris: [], ipAddresses: [] };
  if (value === undefined) return sans;
  for (const name of children(value, expectTag(readRoot(value), 0x30, 'GeneralNames'))) {
    const bytes = content(value, name);
    if (name.tag === 0x82) sans.dnsNames.push(bytes.toString('latin1'));
    else if (name.tag === 0x86) sans.uris.push(bytes.toString('latin1'));
    else if (name.tag === 0x87) sans.ipAddresses.push(formatIpAddress(bytes));
  }
  return sans;
}

/** cA flag of BasicConstraints; false when the extension is absent. */
export function parseIsCa(value: Buffer | undefined): boolean {
  if (value === undefined) return false;
  const [first] = children(value, expectTag(readRoot(value), 0x30, 'BasicConstraints'));
  return first?.tag === 0x01 && value[first.contentStart] !== 0;
}

/** keyIdentifier [0] of an AuthorityKeyIdentifier, or the OCTET STRING of a SubjectKeyIdentifier. */
export function parseKeyIdentifier(value: Buffer | undefined, authority: boolean): Buffer | undefined {
  if (value === undefined) return undefined;
  const root = readRoot(value);
  if (!authority) return content(value, expectTag(root, 0x04, 'SubjectKeyIdentifier'));
  const keyId = children(value, expectTag(root, 0x30, 'AuthorityKeyIdentifier')).find((n) => n.tag === 0x80);
  return keyId === undefined ? undefined : content(value, keyId);
}

export function parseCertificateDer(der: Buffer): ParsedCertificate {
  const root = expectTag(readRoot(der), 0x30, 'Certificate');
  const [tbsNode, sigAlgNode, sigNode] = children(der, root);
  const tbsSeq = expectTag(tbsNode, 0x30, 'TBSCertificate');
  const fields = children(der, tbsSeq);
  let i = 0;
  let version = 1;
  const first = fields[0];
  if (first?.tag === 0xa0) {
    const [v] = children(der, first);
    version = (content(der, expectTag(v, 0x02, 'version'))[0] ?? 0) + 1;
    i = 1;
  }
  const serial = unsignedIntegerBytes(content(der, expectTag(fields[i], 0x02, 'serialNumber')), 'serial number');
  const [validityStart, validityEnd] = children(der, expectTag(fields[i + 3], 0x30, 'Validity'));
  let extensions = new Map<string, ParsedExtension>();
  for (const extra of fields.slice(i + 6)) {
    if (extra.tag === 0xa3) {
      const [extSeq] = children(der, extra);
      extensions = parseExtensions(der, expectTag(extSeq, 0x30, 'Extensions'));
    }
  }
  const [sigAlgOid] = children(der, expectTag(sigAlgNode, 0x30, 'signatureAlgorithm'));
  return {
    der,
    tbs: whole(der, tbsSeq),
    version,
    serial,
    signatureAlgorithmOid: decodeOid(content(der, expectTag(sigAlgOid, 0x06, 'signature algorithm id'))),
    issuer: parseName(der, expectTag(fields[i + 2], 0x30, 'issuer')),
    notBefore: decodeTime(der, expectTag(validityStart, validityStart?.tag ?? 0x17, 'notBefore'), 'notBefore'),
    notAfter: decodeTime(der, expectTag(validityEnd, validityEnd?.tag ?? 0x17, 'notAfter'), 'notAfter'),
    subject: parseName(der, expectTag(fields[i + 4], 0x30, 'subject')),
    spki: whole(der, expectTag(fields[i + 5], 0x30, 'subjectPublicKeyInfo')),
    extensions,
    signature: content(der, expectTag(sigNode, 0x03, 'signature')).subarray(1),
  };
}

/** Parses certificate DER, mapping structural problems to INVALID_PEM with the given context. */
export function parseCertificateOrThrow(der: Buffer, what: string, httpStatus?: number): ParsedCertificate {
  try {
    return parseCertificateDer(der);
  } catch (cause) {
    if (cause instanceof DerError) {
      throw new X509Error('INVALID_PEM', `${what} is not a well-formed certificate (${cause.message})`, { cause, ...(httpStatus === undefined ? {} : { httpStatus }) });
    }
    throw cause;
  }
}
