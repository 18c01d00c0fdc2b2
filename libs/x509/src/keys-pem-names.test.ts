import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, keyAlgorithmOf } from './keys.js';
import { buildSpiffeId, isValidDnsName } from './names.js';
import { derToPem, fingerprintSha256, pemToDer, splitPemBundle } from './pem.js';
import { createRootCa } from './root-ca.js';
import { expectX509Error, openssl } from './openssl.test-helpers.js';

describe('keys', () => {
  it.each(['ecdsa-p256', 'rsa-2048'] as const)('a generated %s key round-trips through PKCS#8 PEM', (alg) => {
    const pair = generateKeyPair(alg);
    const pem = exportPrivateKeyPem(pair.privateKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const imported = importPrivateKeyPem(pem);
    expect(imported.algorithm).toBe(alg);
    expect(imported.publicKey.equals(pair.publicKey)).toBe(true);
    expect(openssl(['pkey', '-noout', '-check'], pem).status).toBe(0);
  });

  it('imports SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" PEM', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(importPrivateKeyPem(ec).algorithm).toBe('ecdsa-p256');
    expect(importPrivateKeyPem(rsa).algorithm).toBe('rsa-2048');
  });

  it('refuses keys we do not issue with UNSUPPORTED_KEY', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(expectX509Error(() => keyAlgorithmOf(p384), 'UNSUPPORTED_KEY').message).toContain('secp384r1');
    expectX509Error(() => importPrivateKeyPem(ed.export({ type: 'pkcs8', format: 'pem' }).toString()), 'UNSUPPORTED_KEY');
    expectX509Error(() => generateKeyPair('dsa-1024' as never), 'UNSUPPORTED_KEY');
  });

  it('refuses garbage and encrypted keys with INVALID_PEM, without echoing the key', () => {
    expectX509Error(() => importPrivateKeyPem('not a key'), 'INVALID_PEM');
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    const error = expectX509Error(() => importPrivateKeyPem(encrypted), 'INVALID_PEM');
    expect(error.message).not.toContain(encrypted.slice(40, 80));
  });
});

describe('PEM helpers', () => {
  const a = createRootCa().certificatePem;
  const b = createRootCa().certificatePem;

  it('splits a bundle into every certificate, ignoring keys and text around them', () => {
    const bundle = `# trust bundle\n${a}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${b.replace(/\n/g, '\r\n')}`;
    expect(splitPemBundle(bundle)).toEqual([a, b]);
  });

  it('converts PEM to DER and back, and fingerprints the same either way', () => {
    const der = pemToDer(a);
    expect(derToPem(der)).toBe(a);
    expect(fingerprintSha256(a)).toBe(fingerprintSha256(der));
    expect(fingerprintSha256(a)).toMatch(/^[0-9a-f]{64}$/);
    const viaOpenssl = openssl(['x509', '-noout', '-fingerprint', '-sha256'], a).stdout;
    expect(viaOpenssl.trim().split('=')[1]?.replace(/:/g, '').toLowerCase()).toBe(fingerprintSha256(a));
  });

  it('refuses text without a PEM block', () => {
    expectX509Error(() => pemToDer('MIIB...'), 'INVALID_PEM');
  });
});

describe('names', () => {
  it.each([
    ['a service CN', 'bookstore-v2.bookstore.cluster.local', true],
    ['a single label', 'localhost', true],
    ['a wildcard', '*.bookstore.svc', true],
    ['a 253-character name', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, true],
    ['a 254-character name', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, false],
    ['an empty name', '', false],
    ['a 64-character label', `${'a'.repeat(64)}.example`, false],
    ['a leading hyphen', '-bad.example', false],
    ['an underscore', 'bad_name.example', false],
    ['an empty label', 'bad..example', false],
    ['a wildcard not in front', 'a.*.example', false],
    ['a bare wildcard', '*', false],
  ])('%s: valid = %s', (_name, input, valid) => {
    expect(isValidDnsName(input)).toBe(valid);
  });

  it('builds SPIFFE IDs and refuses bad parts', () => {
    expect(buildSpiffeId('cluster.local', 'bookstore', 'bookstore-v2')).toBe('spiffe://cluster.local/ns/bookstore/sa/bookstore-v2');
    expectX509Error(() => buildSpiffeId('Cluster Local', 'ns', 'sa'), 'INVALID_NAME');
    expectX509Error(() => buildSpiffeId('cluster.local', 'a/b', 'sa'), 'INVALID_NAME');
    expectX509Error(() => buildSpiffeId('cluster.local', 'ns', ''), 'INVALID_NAME');
  });
});
