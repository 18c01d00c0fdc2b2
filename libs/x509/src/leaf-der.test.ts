// The one-pass leaf writer against the generic writer it replaces on the hot path: the same
// parts must give the same bytes, for every key algorithm as issuer and as subject, and across
// the places where DER changes shape (long-form lengths, GeneralizedTime from 2050, a serial
// that needs a leading zero byte, a key id that is not 20 bytes).
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KEY_ALGORITHMS, keyFamilyOf, type KeyAlgorithm } from '@fsm-certs/core';
import { buildCertificate, encodeTbs } from './certificate.js';
import { encodeName } from './der/name.js';
import { children, readRoot, whole } from './der/reader.js';
import { unsignedInteger } from './der/writer.js';
import {
  LEAF_BASIC_CONSTRAINTS, LEAF_EXT_KEY_USAGE, leafKeyUsageExtension, subjectAltNameExtension, subjectKeyIdentifierExtension, type EncodedSans,
} from './extensions.js';
import { issuerParts } from './issuer.js';
import { generateKeyPair } from './keys.js';
import { leafTbsDer, signedCertificateDer, type LeafDerParts } from './leaf-der.js';
import { ipAddressBytes } from './names.js';
import { createRootCa } from './root-ca.js';
import { keyIdentifier, spkiDerOf } from './spki.js';
import type { Issuer } from './types.js';

const issuers = new Map<KeyAlgorithm, Issuer>();
function issuerFor(algorithm: KeyAlgorithm): Issuer {
  let issuer = issuers.get(algorithm);
  if (issuer === undefined) {
    issuer = createRootCa({ keyAlgorithm: algorithm }).issuer;
    issuers.set(algorithm, issuer);
  }
  return issuer;
}

const subjectKeys = new Map<KeyAlgorithm, Buffer>();
function spkiFor(algorithm: KeyAlgorithm): Buffer {
  let spki = subjectKeys.get(algorithm);
  if (spki === undefined) {
    spki = spkiDerOf(generateKeyPair(algorithm).publicKey);
    subjectKeys.set(algorithm, spki);
  }
  return spki;
}

/** What leaf.ts handed the generic writer before the one-pass writer existed. */
function referenceParts(p: LeafDerParts): Omit<Parameters<typeof buildCertificate>[0], 'signingKey'> {
  return {
    serialDer: p.serialDer,
    signatureAlgorithm: p.issuer.signatureAlgorithm,
    issuerName: p.issuer.issuerName,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    subjectName: encodeName({ commonName: p.commonName }),
    spki: p.spki,
    extensions: [
      leafKeyUsageExtension(p.family),
      LEAF_EXT_KEY_USAGE,
      LEAF_BASIC_CONSTRAINTS,
      subjectKeyIdentifierExtension(p.keyId),
      p.issuer.authorityKeyIdentifier,
      subjectAltNameExtension(p.sans),
    ],
  };
}

function referenceTbs(p: LeafDerParts): Buffer {
  return encodeTbs(referenceParts(p));
}

const SERIAL = unsignedInteger(Buffer.from('5a0c9e1f77d3b2a4c6e8f0123456789a', 'hex'));
const NOT_BEFORE = new Date('2026-11-30T07:00:00Z');
const NOT_AFTER = new Date('2026-12-01T07:00:00Z');

function parts(overrides: Partial<LeafDerParts> & { readonly subject?: KeyAlgorithm; readonly issuerAlgorithm?: KeyAlgorithm } = {}): LeafDerParts {
  const subject = overrides.subject ?? 'ecdsa-p256';
  const spki = overrides.spki ?? spkiFor(subject);
  return {
    serialDer: overrides.serialDer ?? SERIAL,
    issuer: overrides.issuer ?? issuerParts(issuerFor(overrides.issuerAlgorithm ?? 'ecdsa-p256')),
    notBefore: overrides.notBefore ?? NOT_BEFORE,
    notAfter: overrides.notAfter ?? NOT_AFTER,
    commonName: overrides.commonName ?? 'bookstore.bookstore.svc.cluster.local',
    spki,
    family: overrides.family ?? keyFamilyOf(subject),
    keyId: overrides.keyId ?? keyIdentifier(spki),
    sans: overrides.sans ?? { dnsNames: ['bookstore.bookstore.svc.cluster.local'], uris: [], ipAddresses: [] },
  };
}

function sans(dnsNames: readonly string[], uris: readonly string[] = [], ips: readonly string[] = []): EncodedSans {
  return { dnsNames, uris, ipAddresses: ips.map((ip) => ipAddressBytes(ip)) };
}

describe('the one-pass leaf writer', () => {
  it.each(KEY_ALGORITHMS.flatMap((issuer) => KEY_ALGORITHMS.map((subject) => [issuer, subject] as const)))(
    'writes the generic writer\'s TBS bytes for a %s issuer and a %s subject key',
    (issuerAlgorithm, subject) => {
      const p = parts({ issuerAlgorithm, subject });
      expect(leafTbsDer(p).toString('hex')).toBe(referenceTbs(p).toString('hex'));
    },
    60_000,
  );

  const longLabel = 'a'.repeat(63);
  it.each([
    ['a common name of one character', { commonName: 'a', sans: sans(['a']) }],
    ['a common name of 253 characters (long-form lengths in the subject)', { commonName: `${longLabel}.${longLabel}.${longLabel}.${'b'.repeat(61)}`, sans: sans([`${longLabel}.${longLabel}.${longLabel}.${'b'.repeat(61)}`]) }],
    ['DNS, URI and IPv4/IPv6 SANs together', { sans: sans(['x.local', 'y.local'], ['spiffe://cluster.local/ns/bookstore/sa/bookstore'], ['10.0.0.1', '::1', 'fd00::1:2']) }],
    ['a SAN extension past 127 bytes', { sans: sans(Array.from({ length: 8 }, (_, i) => `name-${i}.bookstore.svc.cluster.local`)) }],
    ['a SAN extension past 65,535 bytes (100 URIs of 2,000 characters)', { sans: sans(['x.local'], Array.from({ length: 100 }, (_, i) => `spiffe://cluster.local/${String(i).padStart(3, '0')}/${'p'.repeat(1_970)}`)) }],
    ['a notAfter in 2050 (GeneralizedTime)', { notAfter: new Date('2050-01-01T00:00:00Z') }],
    ['a notAfter at the end of 2049 (still UTCTime)', { notAfter: new Date('2049-12-31T23:59:59Z') }],
    ['dates in the last century', { notBefore: new Date('1999-03-04T05:06:07Z'), notAfter: new Date('2000-02-29T23:00:01Z') }],
    ['a serial that needs a leading zero byte', { serialDer: unsignedInteger(Buffer.from('ff00000000000001', 'hex')) }],
    ['a key id that is not 20 bytes', { keyId: Buffer.alloc(32, 7) }],
    ['a common name with non-ASCII characters (UTF8String)', { commonName: 'bücher.example', sans: sans(['xn--bcher-kva.example']) }],
  ] as const)('writes the same bytes for %s', (_name, overrides) => {
    const p = parts(overrides);
    expect(leafTbsDer(p).toString('hex')).toBe(referenceTbs(p).toString('hex'));
  });

  it.each(KEY_ALGORITHMS)('signs a TBS into the certificate the generic writer builds, verifiable with the %s issuer key', (algorithm) => {
    const issuer = issuerFor(algorithm);
    const p = parts({ issuerAlgorithm: algorithm });
    const der = signedCertificateDer(leafTbsDer(p), p.issuer.signatureAlgorithm, issuer.privateKey);
    const [tbs, signatureAlgorithm] = children(der, readRoot(der));
    expect(tbs === undefined ? undefined : whole(der, tbs).toString('hex')).toBe(referenceTbs(p).toString('hex'));
    expect(signatureAlgorithm === undefined ? undefined : whole(der, signatureAlgorithm).toString('hex')).toBe(p.issuer.signatureAlgorithm.toString('hex'));
    expect(new X509Certificate(der).verify(new X509Certificate(issuer.certificateDer).publicKey)).toBe(true);
    if (keyFamilyOf(algorithm) === 'rsa') {
      // PKCS#1 v1.5 signatures are deterministic: the whole certificate must match byte for byte.
      const reference = buildCertificate({ ...referenceParts(p), signingKey: issuer.privateKey });
      expect(der.toString('hex')).toBe(reference.toString('hex'));
    }
  }, 60_000);
});
