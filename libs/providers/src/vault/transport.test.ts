// What the node-vault transport must do that a real OpenBao cannot be made to show here: stop
// waiting for a Vault that never answers when the caller gives up, never follow a standby's
// redirect from https down to http with the token, and never take a token or a TLS shortcut
// from the environment. The servers below are plain node:http(s) listeners on 127.0.0.1 that record what
// reached them.
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import { afterEach, describe, expect, it } from 'vitest';
import { providerFailure } from '../provider-error.test-helpers.js';
import { silentLogger } from './logger.js';
import { staticTokenSource } from './token-source.js';
import { createVaultTransport } from './transport.js';
import { VaultClient } from './vault-client.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly token: string | undefined;
}

/** A plain http server answering every request with `answer`, recording what it saw. */
async function recordingServer(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ address: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const token = req.headers['x-vault-token'];
    seen.push({ method: req.method ?? '', url: req.url ?? '', token: typeof token === 'string' ? token : undefined });
    req.resume();
    req.on('end', () => answer(req, res));
  });
  server.keepAliveTimeout = 1;
  const port = await listen(server);
  closers.push(() => server.closeAllConnections());
  return { address: `http://127.0.0.1:${port}`, seen };
}

const params = { commonName: 'a.example', altNames: [], uriSans: [], ipSans: [], ttlSeconds: 3600 };

describe('the Vault transport (node-vault)', () => {
  it('stops waiting for a Vault that accepted the connection but never answers once the caller cancels, as ISSUANCE_TIMEOUT, and closes that connection', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    const port = await listen(silent);
    closers.push(() => held.forEach((s) => s.destroy()));
    const client = new VaultClient({
      // Far longer than the test may run: only the signal can end this call.
      transport: createVaultTransport({ address: `http://127.0.0.1:${port}`, timeoutMs: 600_000 }),
      tokenSource: staticTokenSource('t'),
      logger: silentLogger,
    });
    closers.push(() => client.close());
    const controller = new AbortController();
    const connected = once(silent, 'connection');
    const call = client.issue('pki', 'fsm', params, controller.signal);
    const [socket] = (await connected) as [net.Socket];
    const closed = once(socket, 'close');
    controller.abort(new Error('shutting down'));
    const error = await providerFailure(call);
    expect(error.code).toBe('ISSUANCE_TIMEOUT');
    expect(error.message).toContain('cancelled');
    // The request is torn down, not left holding a connection to a Vault that will never answer.
    await closed;
  });

  it('refuses to follow an https Vault redirecting to http, so the token never travels in the clear', async () => {
    const plain = await recordingServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{}}'));
    const root = createRootCa();
    const leaf = issueLeaf(root.issuer, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], validityMs: 3_600_000 });
    const redirecting = https.createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (req, res) => {
      req.resume();
      res.writeHead(307, { location: `${plain.address}${req.url ?? '/'}` }).end();
    });
    const port = await listen(redirecting);
    closers.push(() => redirecting.closeAllConnections());
    const client = new VaultClient({
      transport: createVaultTransport({ address: `https://127.0.0.1:${port}`, caPem: root.certificatePem }),
      tokenSource: staticTokenSource('secret-token'),
      logger: silentLogger,
      retry: { maxAttempts: 1 },
    });
    closers.push(() => client.close());
    const error = await providerFailure(client.issue('pki', 'fsm', params));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(plain.seen).toEqual([]);
  });

  it('follows a standby redirecting to the active node on the same scheme, with the token and body, and reads its answer', async () => {
    const bodies: string[] = [];
    const active = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        bodies.push(`${req.method ?? ''} ${req.url ?? ''} ${String(req.headers['x-vault-token'])} ${text}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"errors":[],"data":{"ok":true}}');
      });
    });
    const activePort = await listen(active);
    closers.push(() => active.closeAllConnections());
    const standby = await recordingServer((req, res) => res.writeHead(307, { location: `http://127.0.0.1:${activePort}${req.url ?? '/'}` }).end());
    const transport = createVaultTransport({ address: standby.address });
    closers.push(() => transport.close?.());
    const answer = await transport.send({ method: 'POST', path: 'pki/issue/fsm', body: { common_name: 'a.example' }, token: 'tok' });
    expect(answer).toEqual({ ok: true, body: { errors: [], data: { ok: true } } });
    expect(standby.seen).toEqual([{ method: 'POST', url: '/v1/pki/issue/fsm', token: 'tok' }]);
    expect(bodies).toEqual(['POST /v1/pki/issue/fsm tok {"common_name":"a.example"}']);
  });

  it('answers a Vault that keeps silent past the timeout as BACKEND_UNAVAILABLE', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    const port = await listen(silent);
    closers.push(() => held.forEach((s) => s.destroy()));
    const client = new VaultClient({
      transport: createVaultTransport({ address: `http://127.0.0.1:${port}`, timeoutMs: 200 }),
      tokenSource: staticTokenSource('t'),
      logger: silentLogger,
      retry: { maxAttempts: 1 },
    });
    closers.push(() => client.close());
    const error = await providerFailure(client.issue('pki', 'fsm', params));
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('ETIMEDOUT');
  });

  it('verifies an https Vault against VAULT_CACERT even when VAULT_SKIP_VERIFY is set in the environment', async () => {
    const root = createRootCa();
    const leaf = issueLeaf(root.issuer, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], validityMs: 3_600_000 });
    const seen: string[] = [];
    const server = https.createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{}}');
    });
    const port = await listen(server);
    closers.push(() => server.closeAllConnections());
    const saved = process.env['VAULT_SKIP_VERIFY'];
    process.env['VAULT_SKIP_VERIFY'] = 'true';
    try {
      const client = new VaultClient({
        transport: createVaultTransport({ address: `https://127.0.0.1:${port}`, caPem: createRootCa().certificatePem }),
        tokenSource: staticTokenSource('t'),
        logger: silentLogger,
        retry: { maxAttempts: 1 },
      });
      closers.push(() => client.close());
      const error = await providerFailure(client.lookupSelf());
      expect(error.code).toBe('BACKEND_UNAVAILABLE');
    } finally {
      if (saved === undefined) delete process.env['VAULT_SKIP_VERIFY'];
      else process.env['VAULT_SKIP_VERIFY'] = saved;
    }
    expect(seen).toEqual([]);
  });

  it('sends the configured token on authenticated calls and none on unauthenticated ones, whatever VAULT_TOKEN says', async () => {
    const server = await recordingServer((req, res) => {
      if (req.url?.endsWith('/ca/pem') === true) res.writeHead(200, { 'content-type': 'application/pem-certificate-chain' }).end('');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"id":"x","ttl":60,"renewable":false,"policies":["root"]}}');
    });
    const saved = process.env['VAULT_TOKEN'];
    process.env['VAULT_TOKEN'] = 'from-the-environment';
    try {
      const client = new VaultClient({ transport: createVaultTransport({ address: server.address }), tokenSource: staticTokenSource('configured'), logger: silentLogger });
      closers.push(() => client.close());
      await client.readCaPem('pki');
      await client.lookupSelf();
    } finally {
      if (saved === undefined) delete process.env['VAULT_TOKEN'];
      else process.env['VAULT_TOKEN'] = saved;
    }
    expect(server.seen.map((s) => [s.url, s.token])).toEqual([
      ['/v1/pki/ca/pem', undefined],
      ['/v1/auth/token/lookup-self', 'configured'],
    ]);
  });

  it('hands Vault error answers up with their status and body, for the client to map', async () => {
    const server = await recordingServer((_req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":["common name a.example not allowed by this role"]}'));
    const transport = createVaultTransport({ address: server.address });
    closers.push(() => transport.close?.());
    expect(await transport.send({ method: 'POST', path: 'pki/issue/fsm', body: { common_name: 'a.example' }, token: 't' })).toEqual({
      ok: false,
      status: 400,
      body: { errors: ['common name a.example not allowed by this role'] },
    });
  });
});
