import { afterAll, describe, expect, it } from 'vitest';
import { formatInspection, inspectCertificate } from './inspect.js';
import { issueLeaf } from './leaf.js';
import { pemToDer } from './pem.js';
import { createRootCa } from './root-ca.js';
import { openssl, TempDir } from './openssl.test-helpers.js';

const temp = new TempDir();
afterAll(() => temp.remove());

const root = createRootCa({ validityMs: 40 * 365 * 86_400_000 });
const cases = [
  ['a P-256 root', root.certificatePem],
  ['an RSA root', createRootCa({ keyAlgorithm: 'rsa-2048' }).certificatePem],
  ['a service leaf', issueLeaf(root.issuer, { commonName: 'bookstore.bookstore.cluster.local', validityMs: 86_400_000, ipAddresses: ['10.0.0.1'] }).certificatePem],
  ['a leaf valid past 2050', issueLeaf(root.issuer, { commonName: 'late.example', validityMs: 30 * 365 * 86_400_000 }).certificatePem],
] as const;

describe('inspection agrees with openssl', () => {
  it.each(cases)('%s: serial, dates, SHA-256 fingerprint and names match `openssl x509`', (_name, pem) => {
    const file = temp.write(`${Math.random()}.pem`, pem);
    const result = openssl(['x509', '-in', file, '-noout', '-serial', '-dates', '-fingerprint', '-sha256', '-subject', '-issuer']);
    expect(result.status, result.stderr).toBe(0);
    const info = inspectCertificate(pem);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([
      `serial=${info.serialNumber.toUpperCase()}`,
      ...formatInspection(info, { dates: true }).trim().split('\n'),
      `sha256 Fingerprint=${info.fingerprintSha256}`,
      `subject=${info.subject}`,
      `issuer=${info.issuer}`,
    ]);
  });

  it('reports key type and size, CA flag and SANs of a leaf', () => {
    const leafPem = cases[2][1];
    const info = inspectCertificate(Buffer.from(leafPem));
    expect(info).toMatchObject({
      commonName: 'bookstore.bookstore.cluster.local',
      dnsNames: ['bookstore.bookstore.cluster.local'],
      ipAddresses: ['10.0.0.1'],
      isCA: false,
      keyType: 'ec',
      keySize: 256,
      issuer: 'O = Flomesh Service Mesh, CN = fsm-ca.flomesh.io',
    });
    expect(inspectCertificate(pemToDer(leafPem))).toEqual(info);
    expect(inspectCertificate(cases[1][1])).toMatchObject({ isCA: true, keyType: 'rsa', keySize: 2048 });
  });

  it('formats text like `openssl x509 -text -noout` for the fields an operator reads', () => {
    const text = formatInspection(inspectCertificate(cases[2][1]));
    expect(text).toContain('Subject: CN = bookstore.bookstore.cluster.local');
    expect(text).toContain('Issuer: O = Flomesh Service Mesh, CN = fsm-ca.flomesh.io');
    expect(text).toMatch(/Not After : \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT/);
    expect(text).toContain('Public-Key: (256 bit)');
    expect(text).toContain('DNS:bookstore.bookstore.cluster.local, IP Address:10.0.0.1');
    expect(text).toContain('CA:FALSE');
    expect(text).toMatch(/SHA256 Fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  });
});
