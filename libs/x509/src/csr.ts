// PKCS#10 certificate requests: create (for workloads and tests) and parse + verify (for CSR-mode
// issuance, where the key never leaves the workload).
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { encodeName } from './der/name.js';
import { OID, SIGNATURE_ALGORITHMS } from './der/oids.js';
import {
  children, content, decodeOid, DerError, expectTag, readRoot, unsignedIntegerBytes, whole,
} from './der/reader.js';
import { bitString, contextTag, encodeOid, sequence, set, smallInteger, tlv } from './der/writer.js';
import { X509Error } from './errors.js';
import { subjectAltNameExtension } from './extensions.js';
import { keyAlgorithmOf } from './keys.js';
import { assertDnsName, assertUri, ipAddressBytes } from './names.js';
import { commonNameOf, parseExtensions, parseName, parseSubjectAltNames } from './parse-certificate.js';
import { derToPem, pemBlocks } from './pem.js';
import { signatureAlgorithmFor } from './signing.js';
import { publicKeyFromSpki, spkiDerOf } from './spki.js';
import type { KeyPair, ParsedCsr } from './types.js';

const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

const createCsrSchema = z.object({
  commonName: z.string().min(1).max(253).regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters'),
  dnsNames: z.array(z.string()).max(100).optional(),
  uris: z.array(z.string()).max(100).optional(),
  ipAddresses: z.array(z.string()).max(100).optional(),
});

export interface CreateCsrOptions {
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly uris?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly keyPair: KeyPair;
}

/** A PKCS#10 CSR in PEM, signed with keyPair (SHA-256). SANs go into an extensionRequest attribute. */
export function createCsr(opts: CreateCsrOptions): string {
  const parsed = createCsrSchema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new X509Error('INVALID_NAME', `invalid CSR option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'rejected'}`);
  }
  const { commonName, dnsNames = [], uris = [], ipAddresses = [] } = parsed.data;
  dnsNames.forEach((name) => assertDnsName(name, 'DNS SAN'));
  uris.forEach(assertUri);
  const ipBytes = ipAddresses.map(ipAddressBytes);
  const algorithm = keyAlgorithmOf(opts.keyPair.privateKey);
  const attributes: Buffer[] = [];
  if (dnsNames.length + uris.length + ipBytes.length > 0) {
    const extensions = sequence([subjectAltNameExtension({ dnsNames, uris, ipAddresses: ipBytes })]);
    attributes.push(sequence([encodeOid(OID.extensionRequest), set([extensions])]));
  }
  const info = sequence([
    smallInteger(0),
    encodeName({ commonName }),
    spkiDerOf(opts.keyPair.publicKey),
    tlv(contextTag(0, true), Buffer.concat(attributes)),
  ]);
  const signatureAlgorithm = signatureAlgorithmFor(algorithm);
  const der = sequence([info, signatureAlgorithm, bitString(sign('sha256', info, opts.keyPair.privateKey))]);
  return derToPem(der, 'CERTIFICATE REQUEST');
}

function invalidCsr(why: string, cause?: unknown): X509Error {
  return new X509Error('INVALID_CSR', `the CSR is not a valid PKCS#10 request (${why}); send a PEM "CERTIFICATE REQUEST"`, cause === undefined ? {} : { cause });
}

interface CsrFields {
  readonly info: Buffer;
  readonly commonName: string | undefined;
  readonly spki: Buffer;
  readonly sans: ReturnType<typeof parseSubjectAltNames>;
  readonly signatureOid: string;
  readonly signature: Buffer;
}

function readCsr(der: Buffer): CsrFields {
  const root = expectTag(readRoot(der), 0x30, 'CertificationRequest');
  const [infoNode, algNode, sigNode] = children(der, root);
  const infoSeq = expectTag(infoNode, 0x30, 'CertificationRequestInfo');
  const [versionNode, subjectNode, spkiNode, attrsNode] = children(der, infoSeq);
  const version = unsignedIntegerBytes(content(der, expectTag(versionNode, 0x02, 'version')), 'version');
  if (version.length !== 1 || version[0] !== 0) throw new DerError('version must be 0 (v1)');
  const subject = parseName(der, expectTag(subjectNode, 0x30, 'subject'));
  let sans = parseSubjectAltNames(undefined);
  for (const attr of attrsNode === undefined ? [] : children(der, expectTag(attrsNode, 0xa0, 'attributes'))) {
    const [typeNode, valuesNode] = children(der, expectTag(attr, 0x30, 'Attribute'));
    if (decodeOid(content(der, expectTag(typeNode, 0x06, 'attribute type'))) !== OID.extensionRequest) continue;
    const [extensionsNode] = children(der, expectTag(valuesNode, 0x31, 'attribute values'));
    const san = parseExtensions(der, expectTag(extensionsNode, 0x30, 'Extensions')).get(OID.subjectAltName);
    sans = parseSubjectAltNames(san?.value);
  }
  const [algOid] = children(der, expectTag(algNode, 0x30, 'signatureAlgorithm'));
  const signatureBits = content(der, expectTag(sigNode, 0x03, 'signature'));
  if (signatureBits[0] !== 0) throw new DerError('signature BIT STRING has unused bits');
  return {
    info: whole(der, infoSeq),
    commonName: commonNameOf(subject),
    spki: whole(der, expectTag(spkiNode, 0x30, 'subjectPublicKeyInfo')),
    sans,
    signatureOid: decodeOid(content(der, expectTag(algOid, 0x06, 'signature algorithm'))),
    signature: signatureBits.subarray(1),
  };
}

/** Parses a PEM CSR and verifies its self-signature; the key must be P-256 or RSA 2048/3072/4096. */
export function parseCsr(pem: string): ParsedCsr {
  if (typeof pem !== 'string') throw invalidCsr('expected PEM text');
  const block = pemBlocks(pem).find((b) => CSR_LABELS.has(b.label));
  if (block === undefined) throw invalidCsr('no "-----BEGIN CERTIFICATE REQUEST-----" block found');
  let fields: CsrFields;
  try {
    fields = readCsr(block.der);
  } catch (cause) {
    if (cause instanceof DerError) throw invalidCsr(cause.message, cause);
    throw cause;
  }
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromSpki(fields.spki);
  } catch (cause) {
    throw invalidCsr('its public key cannot be read', cause);
  }
  const keyAlgorithm = keyAlgorithmOf(publicKey);
  const algorithm = SIGNATURE_ALGORITHMS[fields.signatureOid];
  if (algorithm === undefined) throw invalidCsr(`unsupported signature algorithm ${fields.signatureOid}; sign with SHA-256/384/512`);
  let valid = false;
  try {
    valid = verify(algorithm.digest, fields.info, publicKey, fields.signature);
  } catch {
    valid = false; // e.g. an ECDSA algorithm id on an RSA key: as good as a bad signature
  }
  if (!valid) {
    throw new X509Error('CSR_SIGNATURE_INVALID', 'the CSR signature does not verify with its own public key; the CSR was altered or signed with another key, create a new CSR');
  }
  return {
    pem: derToPem(block.der, 'CERTIFICATE REQUEST'),
    commonName: fields.commonName,
    publicKey,
    keyAlgorithm,
    dnsNames: fields.sans.dnsNames,
    uris: fields.sans.uris,
    ipAddresses: fields.sans.ipAddresses,
  };
}
