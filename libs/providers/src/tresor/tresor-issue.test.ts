import { createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr, createRootCa, generateKeyPair } from '@fsm-certs/x509';
import type { KeyAlgorithm } from '@fsm-certs/core';
import { isProviderError } from '../errors.js';
import { opensslKeyMatches, opensslText, opensslVerify } from '@fsm-certs/testing';
import type { IssuedCertificate, IssueRequest } from '../provider.js';
import { FileSecretStore } from '../secret-store/file-store.js';
import { TresorProvider } from './tresor-provider.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-tresor-issue-'));
const store = new FileSecretStore({ dataDir });
let provider: TresorProvider;
let rootFromSecret: string;
beforeAll(async () => {
  provider = await TresorProvider.start({ store });
  rootFromSecret = (await store.get({ namespace: 'fsm-system', name: 'fsm-ca-bundle' }))?.data['ca.crt']?.toString() ?? '';
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function request(commonName: string, extra: Partial<IssueRequest> = {}): IssueRequest {
  return { commonName, dnsNames: [], uris: [], ipAddresses: [], validityMs: 24 * 3_600_000, keyAlgorithm: 'ecdsa-p256', ...extra };
}

describe('TresorProvider.issue', () => {
  const keyAlgorithms: KeyAlgorithm[] = ['ecdsa-p256', 'rsa-2048'];

  it.each(keyAlgorithms)('issues a %s server-key certificate that openssl verifies against the root in the secret', async (keyAlgorithm) => {
    const cn = 'bookstore-v2.bookstore.cluster.local';
    const cert = await provider.issue(
      request(cn, { keyAlgorithm, uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v2'], dnsNames: ['bookstore-v2.bookstore.svc'] }),
    );
    expect(opensslVerify(cert.certificatePem, rootFromSecret).output).toMatch(/: OK/);
    const text = opensslText(cert.certificatePem);
    expect(text).toMatch(new RegExp(`Subject: CN\\s*=\\s*${cn.replace(/\./g, '\\.')}`));
    expect(text).toContain(`DNS:${cn}`);
    expect(text).toContain('DNS:bookstore-v2.bookstore.svc');
    expect(text).toContain('URI:spiffe://cluster.local/ns/bookstore/sa/bookstore-v2');
    expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(text).toContain(keyAlgorithm === 'rsa-2048' ? 'Public-Key: (2048 bit)' : 'prime256v1');
    expect(cert.privateKeyPem).toBeDefined();
    expect(opensslKeyMatches(cert.certificatePem, cert.privateKeyPem ?? '')).toBe(true);
    expect(cert).toMatchObject({ commonName: cn, chainPem: [], provider: 'tresor', issuerId: provider.issuer.fingerprint, warnings: [] });
    expect(cert.trustedCasPem).toEqual([cert.issuingCaPem]);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeGreaterThanOrEqual(24 * 3_600_000);
  });

  it.each(keyAlgorithms)('hands over a %s server key as its PKCS#8 DER too, the bytes its PEM encodes', async (keyAlgorithm) => {
    const cert = await provider.issue(request(`der-${keyAlgorithm}.bookstore.cluster.local`, { keyAlgorithm }));
    const pemDer = createPrivateKey(cert.privateKeyPem ?? '').export({ type: 'pkcs8', format: 'der' });
    expect(cert.privateKeyDer?.equals(pemDer)).toBe(true);
    expect(opensslKeyMatches(cert.certificatePem, cert.privateKeyPem ?? '')).toBe(true);
  });

  it('makes an RSA key off the event loop, so timers such as a job lock\'s renewal still run meanwhile', async () => {
    const issuing = provider.issue(request('rsa-3072.bookstore.cluster.local', { keyAlgorithm: 'rsa-3072' }));
    // Made inline, the key would be done before the event loop could turn even once.
    const turned = new Promise<'the event loop turned'>((resolve) => setImmediate(() => resolve('the event loop turned')));
    expect(await Promise.race([issuing.then(() => 'the key was made'), turned])).toBe('the event loop turned');
    const cert = await issuing;
    expect(opensslText(cert.certificatePem)).toContain('Public-Key: (3072 bit)');
    expect(opensslKeyMatches(cert.certificatePem, cert.privateKeyPem ?? '')).toBe(true);
  });

  it.each(keyAlgorithms)('signs a %s CSR, takes the identity from the request not the CSR, and returns no key', async (keyAlgorithm) => {
    const keyPair = generateKeyPair(keyAlgorithm);
    const csrPem = createCsr({ commonName: 'evil.example.com', dnsNames: ['evil.example.com'], keyPair });
    const cert = await provider.issue(request('bookstore.bookstore.cluster.local', { csrPem }));
    expect(cert.privateKeyPem).toBeUndefined();
    expect(cert.privateKeyDer).toBeUndefined();
    expect(opensslVerify(cert.certificatePem, rootFromSecret).output).toMatch(/: OK/);
    const text = opensslText(cert.certificatePem);
    expect(text).toContain('DNS:bookstore.bookstore.cluster.local');
    expect(text).not.toContain('evil.example.com');
    const { exportPrivateKeyPem } = await import('@fsm-certs/x509');
    expect(opensslKeyMatches(cert.certificatePem, exportPrivateKeyPem(keyPair.privateKey))).toBe(true);
  });

  it('refuses a CSR whose signature does not verify with INVALID_REQUEST 400', async () => {
    const csrPem = createCsr({ commonName: 'x.example', keyPair: generateKeyPair() });
    const body = csrPem.split('\n').filter((l) => !l.startsWith('-----')).join('');
    const der = Buffer.from(body, 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const error = await provider.issue(request('x.example', { csrPem: tampered })).catch((e: unknown) => e);
    expect(isProviderError(error) && [error.code, error.httpStatus]).toEqual(['INVALID_REQUEST', 400]);
  });

  it('refuses a validity under 10 minutes with INVALID_REQUEST 400', async () => {
    const error = await provider.issue(request('short.example', { validityMs: 5 * 60_000 })).catch((e: unknown) => e);
    expect(isProviderError(error) && [error.code, error.httpStatus]).toEqual(['INVALID_REQUEST', 400]);
    expect((error as Error).message).toContain('10 minute');
  });

  it('honours an aborted signal before signing', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(provider.issue(request('aborted.example'), controller.signal)).rejects.toThrow();
  });

  it('publishes the root as the trust bundle', async () => {
    expect(await provider.trustBundle()).toEqual({ issuingCaPem: provider.issuer.certificatePem, trustedCasPem: [provider.issuer.certificatePem] });
    expect(provider.issuer.certificatePem.trim()).toBe(rootFromSecret.trim());
  });
});

async function handshake(server: IssuedCertificate, client: IssuedCertificate, clientTrusts: string): Promise<'ok' | string> {
  const tlsServer = tls.createServer({
    cert: server.certificatePem,
    key: server.privateKeyPem,
    ca: server.trustedCasPem.join('\n'),
    requestCert: true,
    rejectUnauthorized: true,
  });
  tlsServer.on('secureConnection', (socket) => socket.end('hello'));
  tlsServer.on('tlsClientError', () => undefined);
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  const { port } = tlsServer.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: server.commonName, cert: client.certificatePem, key: client.privateKeyPem, ca: clientTrusts });
      socket.on('secureConnect', () => {
        socket.once('data', () => {
          socket.end();
          resolve('ok');
        });
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
  } finally {
    tlsServer.close();
  }
}

describe('certificates issued by Tresor in a real TLS handshake', () => {
  it('complete an mTLS handshake between two services', async () => {
    const server = await provider.issue(request('bookstore.bookstore.cluster.local'));
    const client = await provider.issue(request('bookbuyer.bookbuyer.cluster.local', { keyAlgorithm: 'rsa-2048' }));
    expect(await handshake(server, client, provider.issuer.certificatePem)).toBe('ok');
  });

  it('fail when the client trusts another root', async () => {
    const server = await provider.issue(request('bookstore.bookstore.cluster.local'));
    const client = await provider.issue(request('bookbuyer.bookbuyer.cluster.local'));
    const otherRoot = createRootCa().certificatePem;
    // The server sends its root along, so the client reports an untrusted self-signed root.
    expect(await handshake(server, client, otherRoot)).toMatch(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/);
  });
});
