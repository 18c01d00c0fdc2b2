import { describe, expect, it } from 'vitest';
import { issueLeaf } from './leaf.js';
import { fingerprintSha256 } from './pem.js';
import { createRootCa } from './root-ca.js';
import { verifyChain } from './verify-chain.js';
import { expectX509Error } from './openssl.test-helpers.js';

const DAY = 86_400_000;
const oldRoot = createRootCa();
const newRoot = createRootCa();
const unrelatedRoot = createRootCa({ commonName: 'other-ca.example', keyAlgorithm: 'rsa-2048' });
const leaf = issueLeaf(newRoot.issuer, { commonName: 'bookstore.bookstore.cluster.local', validityMs: DAY });

describe('verifyChain', () => {
  it('accepts when any of several trusted roots issued the leaf, and says which', () => {
    const result = verifyChain({ leafPem: leaf.certificatePem, trustedRootsPem: [oldRoot.certificatePem, unrelatedRoot.certificatePem, newRoot.certificatePem] });
    expect(result.trustedRootFingerprint).toBe(fingerprintSha256(newRoot.certificatePem));
    expect(result.trustedRootFingerprint).toBe(newRoot.issuer.fingerprint);
  });

  it('rejects a leaf whose issuer is not among the trusted roots, even one with the same name', () => {
    const error = expectX509Error(
      () => verifyChain({ leafPem: leaf.certificatePem, trustedRootsPem: [oldRoot.certificatePem, unrelatedRoot.certificatePem] }),
      'CHAIN_INVALID',
    );
    expect(error.message).toContain('bookstore.bookstore.cluster.local');
  });

  it('rejects an expired leaf and names its expiry', () => {
    const at = new Date(leaf.notAfter.getTime() + 1000);
    const error = expectX509Error(() => verifyChain({ leafPem: leaf.certificatePem, trustedRootsPem: [newRoot.certificatePem], at }), 'CHAIN_INVALID');
    expect(error.message).toContain(`expired at ${leaf.notAfter.toISOString()}`);
  });

  it('rejects a leaf that is not yet valid', () => {
    const at = new Date(leaf.notBefore.getTime() - 1000);
    expectX509Error(() => verifyChain({ leafPem: leaf.certificatePem, trustedRootsPem: [newRoot.certificatePem], at }), 'CHAIN_INVALID');
  });

  it('accepts the leaf at any time inside its validity', () => {
    const at = new Date(leaf.notAfter.getTime() - 1000);
    expect(verifyChain({ leafPem: leaf.certificatePem, trustedRootsPem: [newRoot.certificatePem], at }).trustedRootFingerprint).toBe(newRoot.issuer.fingerprint);
  });

  it('rejects a leaf signed with a key a trusted root does not hold (self-issued look-alike)', () => {
    const lookalike = issueLeaf(createRootCa().issuer, { commonName: 'bookstore.bookstore.cluster.local', validityMs: DAY });
    expectX509Error(() => verifyChain({ leafPem: lookalike.certificatePem, trustedRootsPem: [newRoot.certificatePem] }), 'CHAIN_INVALID');
  });

  it('refuses an empty trust list', () => {
    expectX509Error(() => verifyChain({ leafPem: leaf.certificatePem, trustedRootsPem: [] }), 'CHAIN_INVALID');
  });
});
