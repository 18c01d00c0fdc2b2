// The gateway process's own HTTPS certificate when it comes due long before the process ends
// (a Vault role's max_ttl or a cert-manager issuer grants far less than the decade it asks for):
// the running process renews it at its renewAt and new TLS handshakes get the new one — same
// process, no restart. Real TLS handshakes, verified against the mesh root; every wait is for an
// event (the IPC ready message, the renewal log line), never for time to pass.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaService, type CaService } from '@fsm-certs/issuance';
import { FileSecretStore, TresorProvider, type CertificateProvider } from '@fsm-certs/providers';
import { Inventory, freePort, generateKek } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { createLogger } from '@fsm-certs/runtime';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
const PREFIX = '{gw-own-cert}';
const GATEWAY_NAME = 'issuer-gateway.fsm-system.svc';
/** What the CA grants the gateway's certificate: the shortest leaf validity there is. */
const GRANTED_MS = 10 * 60_000;
/** When the ca-service says a certificate it issues is due for renewal: seconds, not minutes. */
const DUE_IN_MS = 15_000;

/** The certificate a real TLS handshake presents; fails unless it verifies against `ca`. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (!socket.authorized) reject(new Error(String(socket.authorizationError)));
      else resolve(cert.serialNumber.toLowerCase().replace(/^0+/, ''));
    });
    socket.on('error', reject);
  });
}

describe('issuer-gateway process with GATEWAY_TLS=true', () => {
  const db = usePrivateRedis();
  let dataDir: string;
  let ca: CaService;
  let child: ChildProcess | undefined;
  const kek = generateKek();

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gw-own-cert-'));
    const tresor = await TresorProvider.start({ store: new FileSecretStore({ dataDir }) });
    // A CA that caps the gateway's certificate to ten minutes, whatever validity it asks for.
    const capping: CertificateProvider = {
      kind: tresor.kind,
      issue: (request, signal) => tresor.issue(request.commonName === GATEWAY_NAME ? { ...request, validityMs: GRANTED_MS } : request, signal),
      trustBundle: () => tresor.trustBundle(),
      close: () => tresor.close(),
    };
    ca = await startCaService({
      redisUrl: db.url,
      prefix: PREFIX,
      provider: capping,
      kek: kek.kek,
      instanceId: 'ca-for-gateway-certificate-test',
      // Renewal due in seconds rather than after two thirds of the ten minutes: the test waits
      // for one renewal, not for the clock.
      renewAt: () => new Date(Date.now() + DUE_IN_MS),
      logger: createLogger({ service: 'ca-service', level: 'silent' }),
    });
  }, 60_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await ca?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('renews its own certificate at renewAt while running: new TLS handshakes get the new certificate from the same process', async () => {
    const port = await freePort();
    const started = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', main], {
      env: {
        PATH: process.env['PATH'] ?? '',
        REDIS_URL: db.url,
        FSM_REDIS_PREFIX: PREFIX,
        FSM_KEY_ENCRYPTION_KEY: kek.base64,
        GATEWAY_TLS: 'true',
        GATEWAY_PORT: String(port),
        GATEWAY_ADMIN_TOKEN: 'admin-token-0123456789',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child = started;
    let output = '';
    const renewedLines: Array<{ serialNumber: string; previousSerialNumber: string }> = [];
    let onRenewed: (() => void) | undefined;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('"msg":"gateway certificate renewed')) continue;
        renewedLines.push(JSON.parse(line) as { serialNumber: string; previousSerialNumber: string });
        onRenewed?.();
      }
    };
    started.stdout?.on('data', onData);
    started.stderr?.on('data', onData);
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      started.on('message', (message: { type?: string; url?: string }) => {
        if (message.type === 'ready' && typeof message.url === 'string') resolve(message.url);
      });
      void exited.then((code) => reject(new Error(`issuer-gateway exited (${String(code)}) before it was ready:\n${output}`)));
    });
    expect(url).toBe(`https://127.0.0.1:${port}`);

    const inventory = new Inventory(db.redis, { prefix: PREFIX });
    const root = (await inventory.getTrustBundle())?.trustedCasPem[0] ?? '';
    const first = await inventory.get(GATEWAY_NAME);
    if (first === undefined) throw new Error('the gateway certificate is not in the inventory');
    // The CA granted ten minutes, not the decade asked for: the process must renew it itself.
    expect(Date.parse(first.notAfter) - Date.parse(first.notBefore)).toBeLessThanOrEqual(GRANTED_MS + 60_000);
    expect(await servedSerial(port, root)).toBe(first.serialNumber.replace(/^0+/, ''));

    // The renewal, announced by the process itself once new handshakes use the new certificate.
    await new Promise<void>((resolve, reject) => {
      onRenewed = resolve;
      if (renewedLines.length > 0) resolve();
      void exited.then((code) => reject(new Error(`issuer-gateway exited (${String(code)}) before renewing:\n${output}`)));
    });
    const renewed = renewedLines[0];
    expect(renewed?.previousSerialNumber).toBe(first.serialNumber);
    const second = await inventory.get(GATEWAY_NAME);
    expect(second?.serialNumber).toBe(renewed?.serialNumber);
    expect(second?.serialNumber).not.toBe(first.serialNumber);
    const served = await servedSerial(port, root);
    // A third renewal may already have happened under a loaded machine; never the first one again.
    expect(served).not.toBe(first.serialNumber.replace(/^0+/, ''));
    expect(served).toBe((await inventory.get(GATEWAY_NAME))?.serialNumber.replace(/^0+/, ''));
    // Same process throughout: no restart.
    expect(started.exitCode).toBeNull();
    expect(output.match(/"msg":"issuer-gateway ready for requests"/g)).toHaveLength(1);

    started.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
