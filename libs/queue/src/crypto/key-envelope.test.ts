import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueueError } from '../errors.js';
import { generateKek, openPrivateKey, parseKek, sealPrivateKey, sealPrivateKeyDer } from './key-envelope.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const kek = parseKek(randomBytes(32).toString('base64'));
const hasPythonCryptography = spawnSync('python3', ['-c', 'import cryptography']).status === 0;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof QueueError ? error.code : 'not-a-QueueError';
  }
  return undefined;
}

describe('key envelope', () => {
  it('round-trips a PEM and never contains it in clear', () => {
    const sealed = sealPrivateKey(kek, pem, 'a.b.local', 'abc123');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(openPrivateKey(kek, sealed, 'a.b.local', 'abc123')).toBe(pem);
  });

  it('seals a key given as its DER into the envelope sealing its PEM as DER gives, and hands the same envelope out as bytes', () => {
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const sealed = sealPrivateKeyDer(kek, der, 'a.b.local', 'abc123');
    expect(sealed.text).toMatch(/^v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(sealed.text.length).toBe(sealPrivateKey(kek, pem, 'a.b.local', 'abc123', { der: true }).length);
    expect(openPrivateKey(kek, sealed.text, 'a.b.local', 'abc123')).toBe(pem);
    const [, iv = '', tag = '', ct = ''] = sealed.text.split('.');
    expect(sealed.bytes.equals(Buffer.concat([Buffer.from([2]), Buffer.from(iv, 'base64url'), Buffer.from(tag, 'base64url'), Buffer.from(ct, 'base64url')]))).toBe(true);
    expect(codeOf(() => openPrivateKey(kek, sealed.text, 'a.b.local', 'other'))).toBe('ENVELOPE_INVALID');
  });

  it('uses a fresh IV each time', () => {
    expect(sealPrivateKey(kek, pem, 'a', '1')).not.toBe(sealPrivateKey(kek, pem, 'a', '1'));
  });

  it('never repeats an IV, also across refills of its random pool, and each still opens', () => {
    const ivs = new Set<string>();
    const n = 3000; // more than two pools' worth
    for (let i = 0; i < n; i++) {
      const sealed = sealPrivateKey(kek, 'k', 'a', String(i));
      ivs.add(sealed.split('.')[1] ?? '');
      if (i % 1000 === 999) expect(openPrivateKey(kek, sealed, 'a', String(i))).toBe('k');
    }
    expect(ivs.size).toBe(n);
  });

  it.skipIf(!hasPythonCryptography)('is opened by an independent AES-256-GCM implementation (python cryptography) with the documented AAD', () => {
    // openssl enc cannot do AEAD modes, so Python's cryptography (OpenSSL-backed, not our code) checks the wire format.
    const raw = randomBytes(32);
    const sealed = sealPrivateKey(parseKek(raw.toString('base64')), pem, 'bookstore.ns.cluster.local', '0a1b');
    const script = [
      'import sys, base64',
      'from cryptography.hazmat.primitives.ciphers.aead import AESGCM',
      'key = bytes.fromhex(sys.argv[1]); v, iv, tag, ct = sys.argv[2].split(".")',
      'd = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))',
      'aad = b"fsm-certs/key/v1\\0bookstore.ns.cluster.local\\0" + b"0a1b"',
      'sys.stdout.write(AESGCM(key).decrypt(d(iv), d(ct) + d(tag), aad).decode())',
    ].join('\n');
    const out = execFileSync('python3', ['-c', script, raw.toString('hex'), sealed]).toString();
    expect(out).toBe(pem);
  });

  it('v2 seals the key as DER: ~140 characters shorter, opens to the same PEM, bound to its name and serial', () => {
    const v1 = sealPrivateKey(kek, pem, 'a.b.local', 'abc123');
    const v2 = sealPrivateKey(kek, pem, 'a.b.local', 'abc123', { der: true });
    expect(v2).toMatch(/^v2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(v1.length - v2.length).toBeGreaterThan(120);
    expect(openPrivateKey(kek, v2, 'a.b.local', 'abc123')).toBe(pem);
    expect(codeOf(() => openPrivateKey(kek, v2, 'a.b.local', 'abc124'))).toBe('ENVELOPE_INVALID');
    // The version is part of the AAD: relabelling a DER envelope as v1 does not open.
    expect(codeOf(() => openPrivateKey(kek, `v1${v2.slice(2)}`, 'a.b.local', 'abc123'))).toBe('ENVELOPE_INVALID');
  });

  it('v2 falls back to v1 for a PEM it would not give back byte for byte (another label, other line breaks)', () => {
    const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const crlf = pem.replace(/\n/g, '\r\n');
    for (const text of [sec1, crlf, pem.trimEnd()]) {
      const sealed = sealPrivateKey(kek, text, 'a', '1', { der: true });
      expect(sealed.startsWith('v1.')).toBe(true);
      expect(openPrivateKey(kek, sealed, 'a', '1')).toBe(text);
    }
  });

  it.skipIf(!hasPythonCryptography)('v2 is opened by an independent AES-256-GCM implementation to the DER openssl reads', () => {
    const raw = randomBytes(32);
    const sealed = sealPrivateKey(parseKek(raw.toString('base64')), pem, 'bookstore.ns.cluster.local', '0a1b', { der: true });
    const script = [
      'import sys, base64',
      'from cryptography.hazmat.primitives.ciphers.aead import AESGCM',
      'key = bytes.fromhex(sys.argv[1]); v, iv, tag, ct = sys.argv[2].split(".")',
      'd = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))',
      'aad = b"fsm-certs/key/v2\\0bookstore.ns.cluster.local\\0" + b"0a1b"',
      'sys.stdout.buffer.write(AESGCM(key).decrypt(d(iv), d(ct) + d(tag), aad))',
    ].join('\n');
    const der = execFileSync('python3', ['-c', script, raw.toString('hex'), sealed]);
    expect(execFileSync('openssl', ['pkey', '-inform', 'DER', '-outform', 'PEM'], { input: der }).toString()).toBe(pem);
  });

  it('the opened key is usable by openssl', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'env-'));
    try {
      const file = path.join(dir, 'k.pem');
      writeFileSync(file, openPrivateKey(kek, sealPrivateKey(kek, pem, 'a', '1'), 'a', '1'));
      expect(execFileSync('openssl', ['pkey', '-in', file, '-noout', '-text']).toString()).toContain('prime256v1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['another common name', (s: string) => openPrivateKey(kek, s, 'evil.local', 'abc123')],
    ['another serial', (s: string) => openPrivateKey(kek, s, 'a.b.local', 'abc124')],
    ['another KEK', (s: string) => openPrivateKey(generateKek().kek, s, 'a.b.local', 'abc123')],
    ['a flipped ciphertext bit', (s: string) => openPrivateKey(kek, flipLast(s), 'a.b.local', 'abc123')],
    ['a truncated blob', (s: string) => openPrivateKey(kek, s.split('.').slice(0, 3).join('.'), 'a.b.local', 'abc123')],
    ['an unknown version', (s: string) => openPrivateKey(kek, s.replace(/^v1/, 'v2'), 'a.b.local', 'abc123')],
  ])('refuses to open a blob with %s', (_name, open) => {
    const sealed = sealPrivateKey(kek, pem, 'a.b.local', 'abc123');
    expect(codeOf(() => open(sealed))).toBe('ENVELOPE_INVALID');
  });

  it('parses a KEK from base64, base64url and hex, and refuses anything else without echoing it', () => {
    const raw = randomBytes(32);
    const sealed = sealPrivateKey(parseKek(raw.toString('hex')), 'x', 'a', '1');
    expect(openPrivateKey(parseKek(raw.toString('base64')), sealed, 'a', '1')).toBe('x');
    expect(openPrivateKey(parseKek(raw.toString('base64url')), sealed, 'a', '1')).toBe('x');
    const secret = randomBytes(16).toString('hex');
    try {
      parseKek(secret);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(QueueError);
      expect((error as QueueError).code).toBe('INVALID_KEK');
      expect((error as QueueError).message).not.toContain(secret);
      expect((error as QueueError).message).toContain('openssl rand -base64 32');
    }
  });
});

function flipLast(sealed: string): string {
  const parts = sealed.split('.');
  const ct = Buffer.from(parts[3] ?? '', 'base64url');
  ct[ct.length - 1] = (ct[ct.length - 1] ?? 0) ^ 1;
  parts[3] = ct.toString('base64url');
  return parts.join('.');
}
