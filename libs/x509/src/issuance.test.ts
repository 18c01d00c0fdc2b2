// Issuance checked by `openssl verify`: both root key types x both modes x both leaf key types,
// plus the refusals an operator relies on.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createCsr, parseCsr } from './csr.js';
import { loadIssuer } from './issuer.js';
import { generateKeyPair } from './keys.js';
import { issueLeaf } from './leaf.js';
import { inspectCertificate } from './inspect.js';
import { pemToDer, derToPem } from './pem.js';
import { createRootCa } from './root-ca.js';
import { expectX509Error, openssl, TempDir } from './openssl.test-helpers.js';
import type { KeyAlgorithm } from '@fsm-certs/core';
import type { RootCa } from './types.js';

const DAY = 86_400_000;
const temp = new TempDir();
afterAll(() => temp.remove());

const roots: Record<'ecdsa-p256' | 'rsa-2048', RootCa> = {
  'ecdsa-p256': createRootCa({ keyAlgorithm: 'ecdsa-p256' }),
  'rsa-2048': createRootCa({ keyAlgorithm: 'rsa-2048' }),
};
const csrKeys: Record<'ecdsa-p256' | 'rsa-2048', ReturnType<typeof generateKeyPair>> = {
  'ecdsa-p256': generateKeyPair('ecdsa-p256'),
  'rsa-2048': generateKeyPair('rsa-2048'),
};

function opensslVerify(rootPem: string, leafPem: string, purpose: 'sslserver' | 'sslclient' = 'sslserver'): string {
  const ca = temp.write(`root-${Math.random()}.pem`, rootPem);
  const leaf = temp.write(`leaf-${Math.random()}.pem`, leafPem);
  const result = openssl(['verify', '-x509_strict', '-purpose', purpose, '-CAfile', ca, leaf]);
  return `${result.stdout}${result.stderr}`.trim();
}

describe('the root CA', () => {
  it.each(['ecdsa-p256', 'rsa-2048'] as const)('a %s root is a self-signed CA with the FSM subject and CA extensions', (alg) => {
    const root = roots[alg];
    const text = openssl(['x509', '-noout', '-text', '-in', temp.write(`root-${alg}.pem`, root.certificatePem)]).stdout;
    expect(text).toContain('Issuer: O = Flomesh Service Mesh, CN = fsm-ca.flomesh.io');
    expect(text).toContain('Subject: O = Flomesh Service Mesh, CN = fsm-ca.flomesh.io');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain(alg === 'rsa-2048' ? 'sha256WithRSAEncryption' : 'ecdsa-with-SHA256');
    expect(opensslVerify(root.certificatePem, root.certificatePem, 'sslserver')).toMatch(/: OK$/);
    // A decade by default.
    const years = (root.issuer.notAfter.getTime() - root.issuer.notBefore.getTime()) / (365 * DAY);
    expect(Math.round(years)).toBe(10);
    expect(createPrivateKey(root.privateKeyPem).asymmetricKeyType).toBe(alg === 'rsa-2048' ? 'rsa' : 'ec');
  });

  it('with organization null has the common name alone as subject, as a root Vault generates from common_name', () => {
    const root = createRootCa({ commonName: 'fsm.root', organization: null });
    const text = openssl(['x509', '-noout', '-subject', '-issuer', '-in', temp.write('root-no-o.pem', root.certificatePem)]).stdout;
    expect(text.trim().split('\n')).toEqual(['subject=CN = fsm.root', 'issuer=CN = fsm.root']);
  });
});

describe('leaves pass `openssl verify -x509_strict`', () => {
  const matrix: Array<[KeyAlgorithm & ('ecdsa-p256' | 'rsa-2048'), 'server-key' | 'csr', 'ecdsa-p256' | 'rsa-2048']> = [];
  for (const rootAlg of ['ecdsa-p256', 'rsa-2048'] as const) {
    for (const mode of ['server-key', 'csr'] as const) {
      for (const leafAlg of ['ecdsa-p256', 'rsa-2048'] as const) matrix.push([rootAlg, mode, leafAlg]);
    }
  }

  it.each(matrix)('%s root, %s mode, %s leaf key: verifies for server and client use', (rootAlg, mode, leafAlg) => {
    const root = roots[rootAlg];
    const cn = 'bookstore-v2.bookstore.cluster.local';
    const leaf =
      mode === 'csr'
        ? issueLeaf(root.issuer, {
            commonName: cn,
            publicKey: parseCsr(createCsr({ commonName: 'ignored.example', keyPair: csrKeys[leafAlg] })).publicKey,
            validityMs: DAY,
          })
        : issueLeaf(root.issuer, { commonName: cn, validityMs: DAY, keyAlgorithm: leafAlg });
    expect(opensslVerify(root.certificatePem, leaf.certificatePem, 'sslserver')).toMatch(/: OK$/);
    expect(opensslVerify(root.certificatePem, leaf.certificatePem, 'sslclient')).toMatch(/: OK$/);
    const cert = new X509Certificate(leaf.certificatePem);
    if (mode === 'server-key') {
      expect(leaf.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      const key = createPrivateKey(leaf.privateKeyPem ?? '');
      expect(cert.checkPrivateKey(key)).toBe(true);
      expect(key.asymmetricKeyType).toBe(leafAlg === 'rsa-2048' ? 'rsa' : 'ec');
    } else {
      expect(leaf.privateKeyPem).toBeUndefined();
      expect(cert.checkPrivateKey(csrKeys[leafAlg].privateKey)).toBe(true);
    }
    const info = inspectCertificate(leaf.certificatePem);
    expect(info.signatureAlgorithm).toBe(rootAlg === 'rsa-2048' ? 'sha256WithRSAEncryption' : 'ecdsa-with-SHA256');
    // RFC 5480 §3: no keyEncipherment on an EC key; RSA keys keep it for TLS key transport.
    const keyUsage = openssl(['x509', '-noout', '-ext', 'keyUsage', '-in', temp.write(`ku-${Math.random()}.pem`, leaf.certificatePem)]).stdout;
    expect(keyUsage.trim().split('\n').map((l) => l.trim())).toEqual([
      'X509v3 Key Usage: critical',
      leafAlg === 'rsa-2048' ? 'Digital Signature, Key Encipherment' : 'Digital Signature',
    ]);
    expect(info.extendedKeyUsage).toEqual(['TLS Web Server Authentication', 'TLS Web Client Authentication']);
    expect(info.isCA).toBe(false);
    expect(info.authorityKeyIdentifier).toBe(inspectCertificate(root.certificatePem).subjectKeyIdentifier);
  });

  it('puts the CN first among deduplicated DNS SANs and adds SPIFFE URI and IP SANs', () => {
    const leaf = issueLeaf(roots['ecdsa-p256'].issuer, {
      commonName: 'bookstore.bookstore.cluster.local',
      dnsNames: ['bookstore.bookstore', 'BOOKSTORE.bookstore.cluster.local', 'bookstore.bookstore'],
      uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore'],
      ipAddresses: ['10.0.0.7', '2001:db8::1'],
      validityMs: DAY,
    });
    const text = openssl(['x509', '-noout', '-ext', 'subjectAltName', '-in', temp.write('sans.pem', leaf.certificatePem)]).stdout;
    expect(text).toContain(
      'DNS:bookstore.bookstore.cluster.local, DNS:bookstore.bookstore, URI:spiffe://cluster.local/ns/bookstore/sa/bookstore, IP Address:10.0.0.7, IP Address:2001:DB8:0:0:0:0:0:1',
    );
  });

  it('caps notAfter at the issuer notAfter and still verifies', () => {
    const shortRoot = createRootCa({ validityMs: 2 * 3_600_000 });
    const leaf = issueLeaf(shortRoot.issuer, { commonName: 'capped.example', validityMs: DAY });
    expect(leaf.notAfter.getTime()).toBe(shortRoot.issuer.notAfter.getTime());
    expect(opensslVerify(shortRoot.certificatePem, leaf.certificatePem)).toMatch(/: OK$/);
  });

  it('backdates notBefore a minute for clock skew and reports whole seconds', () => {
    const now = new Date('2030-06-01T12:00:00.750Z');
    const root = createRootCa({ now: new Date('2030-01-01T00:00:00Z') });
    const leaf = issueLeaf(root.issuer, { commonName: 'skew.example', validityMs: DAY, now });
    expect(leaf.notBefore.toISOString()).toBe('2030-06-01T11:59:00.000Z');
    expect(leaf.notAfter.toISOString()).toBe('2030-06-02T12:00:00.000Z');
  });
});

describe('issuance refuses what it must', () => {
  const issuer = roots['ecdsa-p256'].issuer;

  it('refuses a validity under 10 minutes with VALIDITY_TOO_SHORT', () => {
    const error = expectX509Error(() => issueLeaf(issuer, { commonName: 'short.example', validityMs: 599_999 }), 'VALIDITY_TOO_SHORT');
    expect(error.httpStatus).toBe(400);
    expect(error.message).toContain('10 minute');
    expect(issueLeaf(issuer, { commonName: 'short.example', validityMs: 600_000 }).certificatePem).toContain('BEGIN CERTIFICATE');
  });

  it('refuses an issuer that expires within 10 minutes', () => {
    const root = createRootCa({ validityMs: 11 * 60_000 });
    expectX509Error(() => issueLeaf(root.issuer, { commonName: 'x.example', validityMs: DAY, now: new Date(Date.now() + 5 * 60_000) }), 'VALIDITY_TOO_SHORT');
  });

  it.each([
    ['an empty common name', { commonName: '' }],
    ['a common name with a space', { commonName: 'my service' }],
    ['a label longer than 63', { commonName: `${'a'.repeat(64)}.example` }],
    ['a bad DNS SAN', { commonName: 'ok.example', dnsNames: ['under_score.example'] }],
    ['a relative URI', { commonName: 'ok.example', uris: ['not-a-uri'] }],
    ['a bad IP address', { commonName: 'ok.example', ipAddresses: ['300.1.1.1'] }],
  ])('refuses %s with INVALID_NAME', (_name, names) => {
    const error = expectX509Error(() => issueLeaf(issuer, { ...names, validityMs: DAY }), 'INVALID_NAME');
    expect(error.httpStatus).toBe(400);
  });

  it('refuses a CSR whose signature does not verify', () => {
    const csr = createCsr({ commonName: 'tampered.example', dnsNames: ['tampered.example'], keyPair: csrKeys['ecdsa-p256'] });
    const der = Buffer.from(pemToDer(csr));
    // Flip a byte inside the signed CertificationRequestInfo (in the CN's text).
    const at = der.indexOf(Buffer.from('tampered'));
    der[at] = 0x54; // 't' -> 'T'
    const error = expectX509Error(() => parseCsr(derToPem(der, 'CERTIFICATE REQUEST')), 'CSR_SIGNATURE_INVALID');
    expect(error.httpStatus).toBe(400);
    const check = openssl(['req', '-verify', '-noout', '-in', temp.write('bad.csr', derToPem(der, 'CERTIFICATE REQUEST'))]);
    expect(`${check.stdout}${check.stderr}`).toMatch(/verify failure/);
  });

  it('refuses CSR text that is not a CSR with INVALID_CSR', () => {
    expectX509Error(() => parseCsr('hello'), 'INVALID_CSR');
    expectX509Error(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n'), 'INVALID_CSR');
  });

  it('refuses an RSA CSR with public exponent 3 made by openssl, and accepts the same request with 65537', () => {
    const csrFor = (exponent: number): string => {
      const out = `${temp.dir}/rsa-e${exponent}.csr`;
      const made = openssl(['req', '-new', '-newkey', 'rsa:2048', '-pkeyopt', `rsa_keygen_pubexp:${exponent}`, '-nodes',
        '-keyout', `${temp.dir}/rsa-e${exponent}.key`, '-subj', '/CN=small-exponent.example', '-out', out]);
      expect(made.status, made.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    };
    const weak = csrFor(3);
    expect(openssl(['req', '-noout', '-text', '-in', temp.write('weak.csr', weak)]).stdout).toContain('Exponent: 3 (0x3)');
    const error = expectX509Error(() => parseCsr(weak), 'UNSUPPORTED_KEY');
    expect(error.httpStatus).toBe(400);
    expect(error.message).toContain('65537');
    const weakKey = createPublicKey(openssl(['req', '-noout', '-pubkey', '-in', temp.write('weak2.csr', weak)]).stdout);
    expectX509Error(() => issueLeaf(issuer, { commonName: 'small-exponent.example', publicKey: weakKey, validityMs: DAY }), 'UNSUPPORTED_KEY');
    expect(parseCsr(csrFor(65537)).keyAlgorithm).toBe('rsa-2048');
  });

  it('reads CN and SANs from a CSR made by openssl', () => {
    const key = temp.write('openssl.key', generateKeyPair('ecdsa-p256').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const out = temp.dir + '/openssl.csr';
    const made = openssl(['req', '-new', '-key', key, '-subj', '/O=Acme/CN=web.default.cluster.local', '-addext',
      'subjectAltName=DNS:web.default.svc,URI:spiffe://cluster.local/ns/default/sa/web,IP:10.1.2.3', '-out', out]);
    expect(made.status, made.stderr).toBe(0);
    const parsed = parseCsr(readFileSync(out, 'utf8'));
    expect(parsed.commonName).toBe('web.default.cluster.local');
    expect(parsed.dnsNames).toEqual(['web.default.svc']);
    expect(parsed.uris).toEqual(['spiffe://cluster.local/ns/default/sa/web']);
    expect(parsed.ipAddresses).toEqual(['10.1.2.3']);
    expect(parsed.keyAlgorithm).toBe('ecdsa-p256');
  });
});

describe('loadIssuer', () => {
  it('loads a root from its PEMs and can issue with it', () => {
    const root = roots['rsa-2048'];
    const issuer = loadIssuer(root.certificatePem, root.privateKeyPem);
    expect(issuer.keyAlgorithm).toBe('rsa-2048');
    expect(issuer.subjectCommonName).toBe('fsm-ca.flomesh.io');
    expect(issuer.fingerprint).toBe(root.issuer.fingerprint);
    const leaf = issueLeaf(issuer, { commonName: 'loaded.example', validityMs: DAY });
    expect(opensslVerify(root.certificatePem, leaf.certificatePem)).toMatch(/: OK$/);
  });

  it('rejects a private key that belongs to another root with KEY_MISMATCH', () => {
    const error = expectX509Error(() => loadIssuer(roots['ecdsa-p256'].certificatePem, createRootCa().privateKeyPem), 'KEY_MISMATCH');
    expect(error.message).toContain('does not belong');
    expect(error.message).not.toContain('PRIVATE KEY');
  });

  it('rejects an expired root with CA_EXPIRED naming the expiry', () => {
    const past = new Date('2020-01-01T00:00:00Z');
    const old = createRootCa({ now: past, validityMs: 3_600_000 });
    const error = expectX509Error(() => loadIssuer(old.certificatePem, old.privateKeyPem), 'CA_EXPIRED');
    expect(error.message).toContain('2020-01-01T01:00:00.000Z');
  });

  it('rejects unparsable PEM saying which half is broken', () => {
    const root = roots['ecdsa-p256'];
    expect(expectX509Error(() => loadIssuer('garbage', root.privateKeyPem), 'INVALID_PEM').message).toContain('CA certificate');
    expect(expectX509Error(() => loadIssuer(root.certificatePem, 'garbage'), 'INVALID_PEM').message).toContain('CA private key');
  });

  it('rejects a leaf certificate used as a CA', () => {
    const leafKey = generateKeyPair('ecdsa-p256');
    const leaf = issueLeaf(roots['ecdsa-p256'].issuer, { commonName: 'leaf.example', publicKey: leafKey.publicKey, validityMs: DAY });
    const pkcs8 = leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(expectX509Error(() => loadIssuer(leaf.certificatePem, pkcs8), 'INVALID_PEM').message).toContain('not a CA');
  });
});
