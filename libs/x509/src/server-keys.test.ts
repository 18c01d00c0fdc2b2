// Server-generated P-256 keys are assembled by hand (SPKI + PKCS#8 templates) for speed; these
// tests make sure every one is a distinct, valid key that matches its certificate.
import { createECDH, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueLeaf } from './leaf.js';
import { createRootCa } from './root-ca.js';
import { p256Pkcs8FromScalar, p256SpkiFromPoint } from './spki.js';
import { openssl } from './openssl.test-helpers.js';
import { derToPem } from './pem.js';

describe('server-generated P-256 keys', () => {
  const root = createRootCa();

  it('are distinct for every leaf and each matches its own certificate', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const leaf = issueLeaf(root.issuer, { commonName: `svc-${i}.example`, validityMs: 3_600_000 });
      const key = createPrivateKey(leaf.privateKeyPem ?? '');
      expect(new X509Certificate(leaf.certificateDer).checkPrivateKey(key)).toBe(true);
      seen.add(leaf.privateKeyPem ?? '');
    }
    expect(seen.size).toBe(300);
  });

  it('come with their PKCS#8 DER, the exact bytes of the PEM handed out', () => {
    const leaf = issueLeaf(root.issuer, { commonName: 'der.example', validityMs: 3_600_000 });
    const fromPem = createPrivateKey(leaf.privateKeyPem ?? '').export({ type: 'pkcs8', format: 'der' });
    expect(leaf.privateKeyDer?.equals(fromPem)).toBe(true);
    expect(leaf.privateKeyPem).toBe(derToPem(leaf.privateKeyDer ?? Buffer.alloc(0), 'PRIVATE KEY'));
  });

  it.each(['ecdsa-p256', 'rsa-2048'] as const)('hand out a %s key as the PEM node writes for its DER', (keyAlgorithm) => {
    const leaf = issueLeaf(root.issuer, { commonName: 'pem.example', validityMs: 3_600_000, keyAlgorithm });
    const der = leaf.privateKeyDer ?? Buffer.alloc(0);
    const nodePem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(leaf.privateKeyPem).toBe(nodePem);
    expect(new X509Certificate(leaf.certificateDer).checkPrivateKey(createPrivateKey(nodePem))).toBe(true);
  });

  it.each(['ecdsa-p256', 'rsa-2048'] as const)('hand out a %s key as its DER alone when asked (keyAsDerOnly), a key openssl checks and the certificate certifies', (keyAlgorithm) => {
    const leaf = issueLeaf(root.issuer, { commonName: 'der-only.example', validityMs: 3_600_000, keyAlgorithm, keyAsDerOnly: true });
    expect(leaf.privateKeyPem).toBeUndefined();
    const pem = derToPem(leaf.privateKeyDer ?? Buffer.alloc(0), 'PRIVATE KEY');
    const result = openssl(['pkey', '-check', '-noout'], pem);
    expect(result.status, result.stderr).toBe(0);
    expect(new X509Certificate(leaf.certificateDer).checkPrivateKey(createPrivateKey(pem))).toBe(true);
  });

  it('pass `openssl pkey -check`', () => {
    const leaf = issueLeaf(root.issuer, { commonName: 'check.example', validityMs: 3_600_000 });
    const result = openssl(['pkey', '-check', '-noout'], leaf.privateKeyPem);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('Key is valid');
  });

  it('are encoded correctly when the private scalar has leading zero bytes', () => {
    const ecdh = createECDH('prime256v1');
    let point = ecdh.generateKeys();
    let scalar = ecdh.getPrivateKey();
    for (let i = 0; i < 20_000 && scalar.length === 32; i++) {
      point = ecdh.generateKeys();
      scalar = ecdh.getPrivateKey();
    }
    expect(scalar.length).toBeLessThan(32);
    const key = createPrivateKey({ key: p256Pkcs8FromScalar(scalar, point), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    expect(spki.equals(p256SpkiFromPoint(point))).toBe(true);
  });
});
