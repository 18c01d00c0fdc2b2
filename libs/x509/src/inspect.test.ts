import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { formatInspection, inspectCertificate } from './inspect.js';
import { generateKeyPair } from './keys.js';
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

  it.each([
    ...cases,
    ['an RSA 3072 leaf issued for a CSR key', issueLeaf(root.issuer, { commonName: 'csr.example', publicKey: generateKeyPair('rsa-3072').publicKey, validityMs: 86_400_000 }).certificatePem],
    ['an openssl-made P-384 CA with a small serial, pathlen, AIA, CRL distribution points and IPv6/email SANs', opensslMadeCa()],
  ] as const)('%s: formatInspection prints exactly what `openssl x509 -noout -text -fingerprint -sha256` prints', (_name, pem) => {
    const result = openssl(['x509', '-in', temp.write(`${Math.random()}.pem`, pem), '-noout', '-text', '-fingerprint', '-sha256']);
    expect(result.status, result.stderr).toBe(0);
    expect(formatInspection(inspectCertificate(pem)).split('\n')).toEqual(result.stdout.split('\n'));
  });

  it('lists an extension it does not decode by name and critical flag, saying so instead of guessing', () => {
    const pem = opensslMadeCa(['-addext', 'certificatePolicies=1.2.3.4']);
    const ours = formatInspection(inspectCertificate(pem)).split('\n');
    const theirs = openssl(['x509', '-in', temp.write('policies.pem', pem), '-noout', '-text']).stdout.split('\n');
    const at = ours.indexOf('            X509v3 Certificate Policies: ');
    expect(at).toBeGreaterThan(0);
    expect(theirs).toContain(ours[at]);
    expect(ours[at + 1]).toBe('                (not decoded here; run openssl x509 -text)');
  });
});

/** A CA made by openssl, not by us, with the fields our own certificates never have. */
function opensslMadeCa(extra: readonly string[] = []): string {
  const out = `${temp.dir}/openssl-ca-${Math.random()}.pem`;
  const made = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', `${out}.key`,
    '-subj', '/C=US/O=Acme/CN=acme-ca', '-set_serial', '4096', '-days', '30',
    '-addext', 'authorityInfoAccess=caIssuers;URI:http://ca.example/ca,OCSP;URI:http://ocsp.example',
    '-addext', 'crlDistributionPoints=URI:http://ca.example/crl,URI:http://mirror.example/crl',
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'subjectAltName=DNS:acme-ca.example,IP:2001:db8::1,email:pki@acme.example,IP:10.1.2.3',
    ...extra, '-out', out]);
  if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
  return readFileSync(out, 'utf8');
}
