// A real mutual-TLS handshake with node's tls between two issued leaves: the behaviour a mesh
// sidecar actually depends on.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createCsr, parseCsr } from './csr.js';
import { generateKeyPair } from './keys.js';
import { issueLeaf } from './leaf.js';
import { createRootCa } from './root-ca.js';

const DAY = 86_400_000;
const SERVER_NAME = 'bookstore.bookstore.cluster.local';

const root = createRootCa();
const otherRoot = createRootCa();
const serverLeaf = issueLeaf(root.issuer, { commonName: SERVER_NAME, validityMs: DAY });
const clientKey = generateKeyPair('rsa-2048');
const clientLeaf = issueLeaf(root.issuer, {
  commonName: 'bookbuyer.bookbuyer.cluster.local',
  publicKey: parseCsr(createCsr({ commonName: 'bookbuyer.bookbuyer.cluster.local', keyPair: clientKey })).publicKey,
  validityMs: DAY,
});
const clientKeyPem = clientKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const seenClients: string[] = [];
const server = tls.createServer(
  { key: serverLeaf.privateKeyPem, cert: serverLeaf.certificatePem, ca: root.certificatePem, requestCert: true, rejectUnauthorized: true },
  (socket) => {
    const peer = socket.getPeerCertificate();
    seenClients.push(String(peer.subject?.CN ?? ''));
    socket.end('hello');
  },
);
server.on('tlsClientError', () => undefined);
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function port(): Promise<number> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  return (server.address() as AddressInfo).port;
}

function connect(options: tls.ConnectionOptions): Promise<{ data: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(options, () => {
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => resolve({ data, authorized: socket.authorized }));
    });
    socket.on('error', reject);
  });
}

describe('mTLS between two issued leaves', () => {
  it('succeeds when both sides trust the issuing root', async () => {
    const result = await connect({
      host: '127.0.0.1',
      port: await port(),
      servername: SERVER_NAME,
      key: clientKeyPem,
      cert: clientLeaf.certificatePem,
      ca: root.certificatePem,
    });
    expect(result).toEqual({ data: 'hello', authorized: true });
    expect(seenClients).toContain('bookbuyer.bookbuyer.cluster.local');
  });

  it('fails when the client trusts a different root', async () => {
    await expect(
      connect({ host: '127.0.0.1', port: await port(), servername: SERVER_NAME, key: clientKeyPem, cert: clientLeaf.certificatePem, ca: otherRoot.certificatePem }),
    // Both roots share the FSM subject (as old and new roots do during rotation), so OpenSSL
    // finds a same-named issuer whose signature check fails.
    ).rejects.toMatchObject({ code: expect.stringMatching(/SELF_SIGNED_CERT_IN_CHAIN|CERT_SIGNATURE_FAILURE|UNABLE_TO_VERIFY_LEAF_SIGNATURE/) });
  });

  it('fails when the client presents a leaf from a root the server does not trust', async () => {
    const foreign = issueLeaf(otherRoot.issuer, { commonName: 'intruder.example', validityMs: DAY });
    // With TLS 1.3 the server rejects the client certificate after the client's handshake has
    // finished, so the client sees either an alert error or a connection closed without data.
    const outcome = await connect({
      host: '127.0.0.1', port: await port(), servername: SERVER_NAME, key: foreign.privateKeyPem, cert: foreign.certificatePem, ca: root.certificatePem,
    }).catch((error: unknown) => ({ error }));
    expect(outcome).not.toMatchObject({ data: 'hello' });
    expect(seenClients).not.toContain('intruder.example');
  });
});
