// Property test: thousands of random leaves must be exact DER that OpenSSL accepts. The classic
// bugs (serial padding, long-form lengths, UTCTime vs GeneralizedTime) only show up at scale.
import { randomBytes, randomInt, X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRootCa } from './root-ca.js';
import { issueLeaf } from './leaf.js';
import { inspectCertificate } from './inspect.js';
import { openssl, TempDir } from './openssl.test-helpers.js';
import type { IssuedLeaf, LeafOptions, RootCa } from './types.js';

const YEAR_MS = 365 * 86_400_000;
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

function label(maxLength: number): string {
  const length = randomInt(1, maxLength + 1);
  let out = '';
  for (let i = 0; i < length; i++) {
    const middle = i > 0 && i < length - 1;
    out += middle && randomInt(8) === 0 ? '-' : ALNUM[randomInt(ALNUM.length)];
  }
  return out;
}

/** Random RFC 1123 name; about a third are longer than 127 bytes to force long-form lengths. */
function dnsName(): string {
  const long = randomInt(3) === 0;
  const labels: string[] = [];
  const target = long ? randomInt(128, 254) : randomInt(3, 60);
  while (labels.join('.').length < target) labels.push(label(long ? 63 : 12));
  let name = labels.join('.');
  while (name.length > 253) name = name.slice(0, name.lastIndexOf('.'));
  return name.replace(/-+$/, '');
}

function ip(): string {
  return randomInt(2) === 0
    ? Array.from(randomBytes(4)).join('.')
    : (randomBytes(16).toString('hex').match(/..../g) ?? []).join(':');
}

interface Case {
  readonly options: LeafOptions;
  readonly leaf: IssuedLeaf;
}

describe('3000+ random leaves are exact DER that OpenSSL accepts', () => {
  const now = new Date();
  // Root valid until ~2086, so leaf notAfter values on both sides of 2050 are reachable.
  const root: RootCa = createRootCa({ now, validityMs: 60 * YEAR_MS });
  const rootX509 = new X509Certificate(root.certificatePem);
  const temp = new TempDir();
  afterAll(() => temp.remove());

  const cases: Case[] = [];
  for (let i = 0; i < 3200; i++) {
    const options: LeafOptions = {
      commonName: dnsName(),
      dnsNames: Array.from({ length: randomInt(4) }, dnsName),
      uris: randomInt(2) === 0 ? [`spiffe://cluster.local/ns/${label(20)}/sa/${label(40)}`] : [],
      ipAddresses: Array.from({ length: randomInt(3) }, ip),
      // From 10 minutes up to ~70 years: some are capped at the root's notAfter.
      validityMs: randomInt(4) === 0 ? randomInt(600_000, 2 * 86_400_000) : randomInt(600_000, 2 ** 47),
      now,
    };
    cases.push({ options, leaf: issueLeaf(root.issuer, options) });
  }

  it('every leaf parses with node X509Certificate and verifies against the root key', () => {
    for (const { options, leaf } of cases) {
      const cert = new X509Certificate(leaf.certificateDer);
      expect(cert.verify(rootX509.publicKey)).toBe(true);
      expect(cert.checkIssued(rootX509)).toBe(true);
      expect(cert.subject).toBe(`CN=${options.commonName}`);
      expect(cert.subjectAltName?.split(', ')[0]).toBe(`DNS:${options.commonName}`);
    }
  });

  it('every serial is positive, at least 64 bits, minimally encoded and reported as issued', () => {
    for (const { leaf } of cases) {
      const cert = new X509Certificate(leaf.certificateDer);
      const serial = BigInt(`0x${cert.serialNumber}`);
      expect(serial > 0n).toBe(true);
      expect(serial.toString(2).length).toBeGreaterThanOrEqual(64);
      expect(leaf.serialNumber).toBe(serial.toString(16).padStart(leaf.serialNumber.length, '0'));
      expect(leaf.serialNumber.startsWith('00')).toBe(false);
    }
  });

  it('notAfter never passes the root and dates from 2050 on round-trip as GeneralizedTime', () => {
    let after2050 = 0;
    let capped = 0;
    for (const { options, leaf } of cases) {
      expect(leaf.notAfter.getTime()).toBeLessThanOrEqual(root.issuer.notAfter.getTime());
      if (leaf.notAfter.getTime() === root.issuer.notAfter.getTime()) capped++;
      expect(leaf.notAfter.getTime()).toBeLessThanOrEqual(now.getTime() + options.validityMs);
      if (leaf.notAfter.getUTCFullYear() >= 2050) {
        after2050++;
        expect(leaf.certificateDer.includes(Buffer.from([0x18, 0x0f]))).toBe(true);
      }
      const info = inspectCertificate(leaf.certificateDer);
      expect(info.notAfter.getTime()).toBe(leaf.notAfter.getTime());
      expect(info.notBefore.getTime()).toBe(leaf.notBefore.getTime());
    }
    expect(after2050).toBeGreaterThan(100);
    expect(capped).toBeGreaterThan(10);
  });

  it('serials from adversarial random bytes (leading zeros, high bits) are still valid', () => {
    const patterns = ['00', '0000', '00ff', 'ff', '80', '0080', '7f', '000000000000000080'];
    for (const prefix of patterns) {
      const bytes = Buffer.concat([Buffer.from(prefix, 'hex'), randomBytes(16)]).subarray(0, 16);
      const leaf = issueLeaf(root.issuer, { commonName: 'serial.test', validityMs: 3_600_000, randomBytes: () => Buffer.from(bytes) });
      const file = temp.write(`serial-${prefix}.pem`, leaf.certificatePem);
      const result = openssl(['x509', '-in', file, '-noout', '-serial']);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout.trim().toLowerCase()).toBe(`serial=${leaf.serialNumber}`);
      expect(BigInt(`0x${leaf.serialNumber}`).toString(2).length).toBeGreaterThanOrEqual(64);
    }
  });

  it('a sample of 50 is printed by `openssl x509 -text` without errors, including post-2050 leaves', () => {
    const post2050 = cases.filter((c) => c.leaf.notAfter.getUTCFullYear() >= 2050).slice(0, 10);
    const longNames = cases.filter((c) => c.options.commonName.length > 127).slice(0, 10);
    const sample = [...post2050, ...longNames, ...cases.slice(0, 50 - post2050.length - longNames.length)];
    expect(sample).toHaveLength(50);
    sample.forEach(({ options, leaf }, i) => {
      const file = temp.write(`leaf-${i}.pem`, leaf.certificatePem);
      const result = openssl(['x509', '-in', file, '-text', '-noout']);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).not.toMatch(/illegal padding|error|bad object header/i);
      expect(result.stdout).toContain(`Subject: CN = ${options.commonName}`);
    });
    const dates = openssl(['x509', '-in', temp.write('late.pem', post2050[0]?.leaf.certificatePem ?? ''), '-noout', '-enddate']);
    expect(dates.stdout).toMatch(/notAfter=.* 20[5-9]\d GMT/);
  });
});
