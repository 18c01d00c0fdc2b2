import { describe, expect, it } from 'vitest';
import { certificateFacts } from './facts.js';
import { inspectCertificate } from './inspect.js';
import { issueLeaf } from './leaf.js';
import { createRootCa } from './root-ca.js';

const ecRoot = createRootCa();
const rsaRoot = createRootCa({ keyAlgorithm: 'rsa-3072' });
const cases = [
  ['a P-256 root', ecRoot.certificatePem],
  ['an RSA-3072 root', rsaRoot.certificatePem],
  ['a P-256 leaf with DNS, URI and IP names', issueLeaf(ecRoot.issuer, { commonName: 'a.example', dnsNames: ['b.example'], uris: ['spiffe://cluster.local/ns/a/sa/b'], ipAddresses: ['10.0.0.1', '2001:db8::1'], validityMs: 86_400_000 }).certificatePem],
  ['an RSA-2048 leaf', issueLeaf(ecRoot.issuer, { commonName: 'rsa.example', keyAlgorithm: 'rsa-2048', validityMs: 86_400_000 }).certificatePem],
] as const;

describe('certificate facts', () => {
  it.each(cases)('%s: names, dates, key type and size are what inspectCertificate says', (_name, pem) => {
    const info = inspectCertificate(pem);
    expect(certificateFacts(pem)).toEqual({
      subject: info.subject,
      issuer: info.issuer,
      commonName: info.commonName,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      dnsNames: info.dnsNames,
      uris: info.uris,
      ipAddresses: info.ipAddresses,
      keyType: info.keyType,
      keySize: info.keySize,
    });
  });
});
