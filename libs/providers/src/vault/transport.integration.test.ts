// The Vault transport's connection pool, seen from outside: a TCP relay in front of a real OpenBao
// over https counts the connections the client opens. Every certificate must not pay a TCP and
// TLS handshake, and a burst must not open more connections than the pool allows.
import { getEventListeners, once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { eventually } from '@fsm-certs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { staticTokenSource } from './token-source.js';
import { createVaultTransport } from './transport.js';
import { VaultClient } from './vault-client.js';
import { startVaultSuite } from './vault-target.test-helpers.js';
import type { VaultSuite } from './vault-target.test-helpers.js';

const suite: VaultSuite = await startVaultSuite({ tls: true, suite: 'vault transport' });
const { target } = suite;

interface Relay {
  readonly address: string;
  /** Connections accepted so far. */
  connections: number;
  /** Connections open now. */
  open: number;
  /** Most connections open at the same time. */
  peak: number;
  close(): Promise<void>;
}

/** 127.0.0.1:<port> forwarding bytes to Vault unchanged (TLS passes through end to end). */
async function startRelay(to: URL): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const relay: Relay = {
    address: '',
    connections: 0,
    open: 0,
    peak: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    relay.connections += 1;
    relay.open += 1;
    relay.peak = Math.max(relay.peak, relay.open);
    const upstream = net.connect(Number(to.port), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.once('close', () => (relay.open -= 1));
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(relay, { address: `${to.protocol}//127.0.0.1:${port}` });
}

describe(`the Vault transport's connections to ${target.description}`, () => {
  let relay: Relay;
  beforeAll(async () => {
    await suite.bootstrap();
    relay = await startRelay(new URL(target.address));
  });
  afterAll(async () => {
    await relay.close();
    await suite.close();
  });

  const clientThroughRelay = (maxSockets: number): VaultClient =>
    new VaultClient({
      transport: createVaultTransport({ address: relay.address, maxSockets, ...(target.caPem === undefined ? {} : { caPem: target.caPem }) }),
      tokenSource: staticTokenSource(target.rootToken),
      logger: silentLogger,
      retry: { maxAttempts: 1 },
    });

  it('is https, so every new connection would cost a TLS handshake', () => {
    expect(target.address).toMatch(/^https:\/\//);
  });

  it('issues one certificate after another over a single kept-alive connection', async () => {
    const before = relay.connections;
    const client = clientThroughRelay(4);
    try {
      for (let i = 0; i < 8; i++) {
        const issued = await client.issue(suite.mount, 'fsm', { commonName: `seq-${i}.keepalive.example`, altNames: [], uriSans: [], ipSans: [], ttlSeconds: 3600 });
        expect(issued.data.certificate).toContain('BEGIN CERTIFICATE');
      }
      expect(relay.connections - before).toBe(1);
    } finally {
      client.close();
    }
  });

  it('serves a burst of 48 calls at once through at most maxSockets (4) connections, and every call is answered', async () => {
    const before = relay.connections;
    relay.peak = 0;
    const client = clientThroughRelay(4);
    try {
      const answers = await Promise.all(
        Array.from({ length: 48 }, (_, i) => client.issue(suite.mount, 'fsm', { commonName: `burst-${i}.keepalive.example`, altNames: [], uriSans: [], ipSans: [], ttlSeconds: 3600 })),
      );
      expect(new Set(answers.map((a) => a.data.serial_number)).size).toBe(48);
      expect(relay.connections - before).toBeLessThanOrEqual(4);
      expect(relay.peak).toBeLessThanOrEqual(4);
    } finally {
      client.close();
    }
  });

  it("issues a job's 24 certificates at once under the job's one cancellation signal without Node warning of a listener leak, and leaves no listener on it", async () => {
    const client = clientThroughRelay(32);
    const job = new AbortController();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) => client.issue(suite.mount, 'fsm', { commonName: `job-${i}.signal.example`, altNames: [], uriSans: [], ipSans: [], ttlSeconds: 3600 }, job.signal)),
      );
      expect(new Set(answers.map((a) => a.data.serial_number)).size).toBe(24);
      // Node emits its warnings on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
      expect(getEventListeners(job.signal, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
      client.close();
    }
  });

  it('lets go of its connections when closed', async () => {
    await eventually(() => Promise.resolve(relay.open === 0 ? true : undefined), 10_000, 'earlier connections to close');
    const client = clientThroughRelay(2);
    await client.issue(suite.mount, 'fsm', { commonName: 'closing.keepalive.example', altNames: [], uriSans: [], ipSans: [], ttlSeconds: 3600 });
    expect(relay.open).toBe(1);
    client.close();
    await eventually(() => Promise.resolve(relay.open === 0 ? true : undefined), 10_000, 'the pooled connection to close');
  });
});
