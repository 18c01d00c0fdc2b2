// Leaf issuance: the hot path. Per-issuer constants come from issuerParts(); for a server-made
// P-256 key the SPKI and PKCS#8 are assembled from the raw ECDH output (docs/adr/0001-der-writer.md), so a leaf
// costs about one key generation plus one signature.
import { createECDH, KeyObject, type ECDH } from 'node:crypto';
import { isKeyAlgorithm, keyFamilyOf, type KeyFamily } from '@fsm-certs/core';
import { z } from 'zod';
import { truncateToSeconds } from './certificate.js';
import { X509Error } from './errors.js';
import { issuerParts } from './issuer.js';
import { leafTbsDer, signedCertificateDer } from './leaf-der.js';
import { exportPrivateKeyDer, generateKeyPair, keyAlgorithmOf, keyAlgorithmSchema } from './keys.js';
import { assertDnsName, assertUri, ipAddressBytes } from './names.js';
import { derToPem } from './pem.js';
import { randomSerial } from './serial.js';
import { BACKDATE_MS } from './root-ca.js';
import { keyIdentifier, p256Pkcs8FromScalar, p256SpkiFromPoint, spkiDerOf } from './spki.js';
import type { IssuedLeaf, Issuer, LeafOptions } from './types.js';

/** docs/architecture.md (certificates): anything shorter is refused; it would expire before rotation could replace it. */
export const MIN_LEAF_VALIDITY_MS = 10 * 60_000;

const leafOptionsSchema = z.object({
  commonName: z.string(),
  dnsNames: z.array(z.string()).max(100).optional(),
  uris: z.array(z.string()).max(100).optional(),
  ipAddresses: z.array(z.string()).max(100).optional(),
  validityMs: z.number().finite(),
  publicKey: z.custom<KeyObject>((v) => v instanceof KeyObject, 'must be a KeyObject').optional(),
  keyAlgorithm: keyAlgorithmSchema.optional(),
  now: z.date().optional(),
  randomBytes: z.custom<(size: number) => Buffer>((v) => typeof v === 'function').optional(),
  keyAsDerOnly: z.boolean().optional(),
});

function stringList(value: unknown): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value) || value.length > 100) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

/**
 * True only for options the schema accepts as they are: the ones every issuance passes, checked
 * without zod's per-call cost (~7% of a leaf). Anything else, including what this check is unsure
 * of, goes through the schema, which decides and words the error.
 */
function plainlyValid(opts: LeafOptions): boolean {
  return (
    typeof opts === 'object' &&
    opts !== null &&
    typeof opts.commonName === 'string' &&
    stringList(opts.dnsNames) &&
    stringList(opts.uris) &&
    stringList(opts.ipAddresses) &&
    typeof opts.validityMs === 'number' &&
    Number.isFinite(opts.validityMs) &&
    (opts.publicKey === undefined || opts.publicKey instanceof KeyObject) &&
    (opts.keyAlgorithm === undefined || isKeyAlgorithm(opts.keyAlgorithm)) &&
    (opts.now === undefined || (opts.now instanceof Date && !Number.isNaN(opts.now.getTime()))) &&
    (opts.randomBytes === undefined || typeof opts.randomBytes === 'function') &&
    (opts.keyAsDerOnly === undefined || typeof opts.keyAsDerOnly === 'boolean')
  );
}

function validated(opts: LeafOptions): LeafOptions {
  if (plainlyValid(opts)) return opts;
  const parsed = leafOptionsSchema.safeParse(opts);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = String(issue?.path[0] ?? 'options');
  const code = field === 'keyAlgorithm' || field === 'publicKey' ? 'UNSUPPORTED_KEY' : field === 'validityMs' ? 'VALIDITY_TOO_SHORT' : 'INVALID_NAME';
  throw new X509Error(code, `invalid leaf option ${issue?.path.join('.') ?? field}: ${issue?.message ?? 'rejected'}`);
}

function dnsSans(commonName: string, requested: readonly string[]): string[] {
  assertDnsName(commonName, 'common name');
  if (requested.length === 0) return [commonName];
  const seen = new Set<string>([commonName.toLowerCase()]);
  const out = [commonName];
  for (const name of requested) {
    assertDnsName(name, 'DNS SAN');
    const key = name.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(name);
    }
  }
  return out;
}

function ipSans(addresses: readonly string[]): Buffer[] {
  if (addresses.length === 0) return [];
  const seen = new Set<string>();
  const out: Buffer[] = [];
  for (const address of addresses) {
    const bytes = ipAddressBytes(address);
    const key = bytes.toString('hex');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(bytes);
    }
  }
  return out;
}

let p256: ECDH | undefined;

/**
 * One ECDH object reused for every server-generated P-256 key: generateKeys() replaces its key
 * pair with a fresh random one each call, and skipping the constructor halves the keygen cost.
 * Safe because issueLeaf is synchronous: nothing else runs between generate and read-out.
 */
function freshP256(): { point: Buffer; scalar: Buffer } {
  p256 ??= createECDH('prime256v1');
  const point = p256.generateKeys();
  return { point, scalar: p256.getPrivateKey() };
}

interface SubjectKey {
  readonly spki: Buffer;
  /** Decides the KeyUsage: the certified key's family, whoever generated it. */
  readonly family: KeyFamily;
  /** PKCS#8 of a key generated here. */
  readonly privateKeyDer?: Buffer;
}

function subjectKey(opts: LeafOptions): SubjectKey {
  if (opts.publicKey !== undefined) {
    return { spki: spkiDerOf(opts.publicKey), family: keyFamilyOf(keyAlgorithmOf(opts.publicKey)) };
  }
  const algorithm = opts.keyAlgorithm ?? 'ecdsa-p256';
  if (algorithm === 'ecdsa-p256') {
    const { point, scalar } = freshP256();
    return { spki: p256SpkiFromPoint(point), family: 'ec', privateKeyDer: p256Pkcs8FromScalar(scalar, point) };
  }
  const pair = generateKeyPair(algorithm);
  return { spki: spkiDerOf(pair.publicKey), family: keyFamilyOf(algorithm), privateKeyDer: exportPrivateKeyDer(pair.privateKey) };
}

/**
 * Signs a leaf for `opts.commonName` (also its first DNS SAN). With `publicKey` it certifies that
 * key (CSR mode); otherwise it generates one and returns it as PKCS#8 DER and PEM (server-key
 * mode; the DER alone with `keyAsDerOnly`).
 */
export function issueLeaf(issuer: Issuer, options: LeafOptions): IssuedLeaf {
  const opts = validated(options);
  if (opts.validityMs < MIN_LEAF_VALIDITY_MS) {
    throw new X509Error('VALIDITY_TOO_SHORT', `leaf validity of ${opts.validityMs} ms is below the 10 minute minimum; request at least "10m"`);
  }
  const nowMs = (opts.now ?? new Date()).getTime();
  const issuerEnd = issuer.notAfter.getTime();
  if (nowMs >= issuerEnd) {
    throw new X509Error('CA_EXPIRED', `the issuer "${issuer.subjectCommonName}" expired at ${issuer.notAfter.toISOString()}; rotate the root before issuing`);
  }
  const notAfter = truncateToSeconds(new Date(Math.min(nowMs + opts.validityMs, issuerEnd)));
  if (issuerEnd - nowMs < MIN_LEAF_VALIDITY_MS) {
    throw new X509Error(
      'VALIDITY_TOO_SHORT',
      `the issuer "${issuer.subjectCommonName}" expires at ${issuer.notAfter.toISOString()}, leaving less than the 10 minute minimum; rotate the root`,
    );
  }
  // Backdated for clock skew, but never before the issuer itself became valid.
  const notBefore = truncateToSeconds(new Date(Math.max(nowMs - BACKDATE_MS, issuer.notBefore.getTime())));
  const dnsNames = dnsSans(opts.commonName, opts.dnsNames ?? []);
  const uris = opts.uris === undefined || opts.uris.length === 0 ? [] : [...new Set(opts.uris)];
  uris.forEach(assertUri);
  const ipAddresses = ipSans(opts.ipAddresses ?? []);

  const parts = issuerParts(issuer);
  const key = subjectKey(opts);
  const serial = randomSerial(opts.randomBytes);
  const tbs = leafTbsDer({
    serialDer: serial.der,
    issuer: parts,
    notBefore,
    notAfter,
    commonName: opts.commonName,
    spki: key.spki,
    family: key.family,
    keyId: keyIdentifier(key.spki),
    sans: { dnsNames, uris, ipAddresses },
  });
  const der = signedCertificateDer(tbs, parts.signatureAlgorithm, issuer.privateKey);
  const certificatePem = derToPem(der);
  const { privateKeyDer } = key;
  if (privateKeyDer === undefined) return { certificatePem, certificateDer: der, serialNumber: serial.hex, notBefore, notAfter, dnsNames };
  if (opts.keyAsDerOnly === true) return { certificatePem, certificateDer: der, privateKeyDer, serialNumber: serial.hex, notBefore, notAfter, dnsNames };
  const privateKeyPem = derToPem(privateKeyDer, 'PRIVATE KEY');
  return { certificatePem, certificateDer: der, privateKeyPem, privateKeyDer, serialNumber: serial.hex, notBefore, notAfter, dnsNames };
}
