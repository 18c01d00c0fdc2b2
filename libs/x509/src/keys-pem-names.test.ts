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
    ['a trailing dot', 'bookstore.example.', false],
    ['a label ending in a hyphen', 'bad-.example', false],
    ['a wildcard with nothing after it', '*.', false],
    ['a wildcard glued to a label', '*a.example', false],
    ['a trailing newline', 'bookstore.example\n', false],
    ['a non-ASCII letter', 'bücher.example', false],
  ])('%s: valid = %s', (_name, input, valid) => {
    expect(isValidDnsName(input)).toBe(valid);
  });

  it('judges 20,000 near-miss names exactly as the RFC 1123 label pattern does', () => {
    // The rule as a regex per label, as this check was written before it read characters one by one.
    const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
    const byPattern = (name: string): boolean => {
      if (name.length === 0 || name.length > 253) return false;
      const labels = name.split('.');
      const start = labels[0] === '*' && labels.length > 1 ? 1 : 0;
      return labels.slice(start).every((l) => label.test(l));
    };
    const pieces = ['a', 'Z', '0', '9', '-', '.', '*', '_', ' ', 'é', '\n', 'a'.repeat(62), 'b'.repeat(63), 'c'.repeat(64), 'ab-cd'];
    let seed = 0x2545f491;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % n;
    };
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      let name = '';
      const count = 1 + next(12);
      for (let j = 0; j < count; j++) name += pieces[next(pieces.length)] ?? '';
      if (next(4) === 0) name = name.replace(/[^A-Za-z0-9.]/g, 'x');
      if (next(3) === 0) name = `*.${name}`;
      if (next(8) === 0) name = name.padEnd(252 + next(4), '.q').slice(0, 252 + next(4));
      expect(isValidDnsName(name), JSON.stringify(name)).toBe(byPattern(name));
      if (byPattern(name)) valid += 1;
    }
    // Both verdicts occur often enough for the comparison to mean something.
    expect(valid).toBeGreaterThan(2_000);
    expect(valid).toBeLessThan(18_000);
  });

  it('builds SPIFFE IDs and refuses bad parts', () => {
    expect(buildSpiffeId('cluster.local', 'bookstore', 'bookstore-v2')).toBe('spiffe://cluster.local/ns/bookstore/sa/bookstore-v2');
    expectX509Error(() => buildSpiffeId('Cluster Local', 'ns', 'sa'), 'INVALID_NAME');
    expectX509Error(() => buildSpiffeId('cluster.local', 'a/b', 'sa'), 'INVALID_NAME');
    expectX509Error(() => buildSpiffeId('cluster.local', 'ns', ''), 'INVALID_NAME');
  });
});
