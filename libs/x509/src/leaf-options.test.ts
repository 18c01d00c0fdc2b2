// issueLeaf checks its options without zod when they are plainly right, and lets the schema
// decide everything else: each malformed option must still be refused with its X509Error code,
// never let through by the quick check or turned into a TypeError.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueLeaf } from './leaf.js';
import { expectX509Error } from './openssl.test-helpers.js';
import { createRootCa } from './root-ca.js';
import type { LeafOptions } from './types.js';

const issuer = createRootCa({ keyAlgorithm: 'ecdsa-p256' }).issuer;
const DAY = 86_400_000;
const good = { commonName: 'ok.example', validityMs: DAY };

/** Options as an untyped caller (plain JavaScript, a JSON body) might pass them. */
function loose(options: Record<string, unknown> | null): LeafOptions {
  // The point is to hand issueLeaf what its type forbids; it must refuse it with an X509Error.
  return options as unknown as LeafOptions;
}

describe('issueLeaf options', () => {
  it.each([
    ['a common name that is not a string', { ...good, commonName: 5 }, 'INVALID_NAME'],
    ['DNS names given as one string', { ...good, dnsNames: 'a.example' }, 'INVALID_NAME'],
    ['a DNS name that is not a string', { ...good, dnsNames: ['a.example', 7] }, 'INVALID_NAME'],
    ['101 DNS names', { ...good, dnsNames: Array.from({ length: 101 }, (_, i) => `n${i}.example`) }, 'INVALID_NAME'],
    ['101 URIs', { ...good, uris: Array.from({ length: 101 }, (_, i) => `spiffe://example/${i}`) }, 'INVALID_NAME'],
    ['IP addresses with a hole', { ...good, ipAddresses: [, '10.0.0.1'] }, 'INVALID_NAME'],
    ['a validity of NaN', { ...good, validityMs: Number.NaN }, 'VALIDITY_TOO_SHORT'],
    ['an infinite validity', { ...good, validityMs: Number.POSITIVE_INFINITY }, 'VALIDITY_TOO_SHORT'],
    ['a validity given as text', { ...good, validityMs: '24h' }, 'VALIDITY_TOO_SHORT'],
    ['a public key that is not a KeyObject', { ...good, publicKey: { type: 'public' } }, 'UNSUPPORTED_KEY'],
    ['a key algorithm we do not issue', { ...good, keyAlgorithm: 'dsa-1024' }, 'UNSUPPORTED_KEY'],
    ['an invalid date as now', { ...good, now: new Date(Number.NaN) }, 'INVALID_NAME'],
    ['now given as a number', { ...good, now: Date.now() }, 'INVALID_NAME'],
    ['randomBytes that is not a function', { ...good, randomBytes: 'abc' }, 'INVALID_NAME'],
    ['keyAsDerOnly given as text', { ...good, keyAsDerOnly: 'yes' }, 'INVALID_NAME'],
  ] as const)('refuses %s with %s', (_name, options, code) => {
    expectX509Error(() => issueLeaf(issuer, loose(options)), code);
  });

  it('refuses options that are not an object at all', () => {
    expectX509Error(() => issueLeaf(issuer, loose(null)), 'INVALID_NAME');
  });

  it('issues with every optional field given explicitly, including a CSR-style public key', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const leaf = issueLeaf(issuer, {
      commonName: 'all.example',
      dnsNames: ['b.example'],
      uris: ['spiffe://cluster.local/ns/a/sa/b'],
      ipAddresses: ['10.1.2.3'],
      validityMs: DAY,
      publicKey,
      keyAlgorithm: 'rsa-2048',
      now: new Date(),
      randomBytes: (size) => Buffer.alloc(size, 0x5a),
      keyAsDerOnly: false,
    });
    expect(leaf.privateKeyPem).toBeUndefined();
    expect(leaf.privateKeyDer).toBeUndefined();
    expect(leaf.dnsNames).toEqual(['all.example', 'b.example']);
    expect(leaf.serialNumber).toBe('5a'.repeat(16));
  });
});
