// The ca-service process with the Vault and cert-manager providers: the provider writes its
// log lines into the service's output (docs/vault.md promises them), and a SIGTERM during a
// provider call that will not finish in time cancels it cleanly inside the shutdown budget.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VaultClient, applyBootstrap, bootstrapSettingsSchema, createVaultTransport, silentLogger, staticTokenSource } from '@fsm-certs/providers';
import {
  createIssueQueue,
  createQueueEvents,
  createRedisConnection,
  startRedisServer,
  type IssueItem,
  type IssueJobResult,
  type IssueQueue,
  type RedisServerHandle,
} from '@fsm-certs/queue';
import { AppProcess } from '@fsm-certs/stack';
import { CertManagerEmulator, KubernetesEmulator, VaultAdmin, eventually, startVaultTarget, type VaultTarget } from '@fsm-certs/testing';
import { createRootCa } from '@fsm-certs/x509';

interface LogLine {
  readonly msg?: string;
  readonly component?: string;
  readonly vault?: { readonly path?: string; readonly status?: number };
  readonly warning?: string;
  readonly level?: number;
}

function item(commonName: string, validityMs = 3_600_000): IssueItem {
  return { requestId: randomUUID(), commonName, dnsNames: [], uris: [], ipAddresses: [], validityMs, keyAlgorithm: 'ecdsa-p256', reason: 'request' };
}

function parsed(app: AppProcess): LogLine[] {
  return app.recentOutput.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

describe('ca-service with its provider', () => {
  let redisServer: RedisServerHandle;
  let redis: Redis;
  let eventsConnection: Redis;
  let events: QueueEvents;
  let queue: IssueQueue;
  let dir: string;
  let app: AppProcess | undefined;
  const prefix = '{fsm-ca-providers}';

  beforeAll(async () => {
    redisServer = await startRedisServer({ appendOnly: false });
    redis = createRedisConnection(redisServer.url, { role: 'worker' });
    queue = createIssueQueue(redis, prefix);
    eventsConnection = createRedisConnection(redisServer.url, { role: 'worker' });
    events = createQueueEvents(eventsConnection, 'issue', prefix);
    await events.waitUntilReady();
    dir = mkdtempSync(path.join(tmpdir(), 'fsm-ca-providers-'));
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });
  afterAll(async () => {
    await events?.close();
    await queue?.close();
    eventsConnection?.disconnect();
    redis?.disconnect();
    await redisServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const baseEnv = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    REDIS_URL: redisServer.url,
    FSM_REDIS_PREFIX: prefix,
    FSM_DATA_DIR: dir,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    ...extra,
  });

  describe('Vault', () => {
    let vault: VaultTarget;
    let admin: VaultAdmin;
    let mount: string;
    let token: string;
    let vaultEnv: NodeJS.ProcessEnv;

    beforeAll(async () => {
      vault = await startVaultTarget({ suite: 'ca-service with Vault' });
      admin = new VaultAdmin(vault);
      mount = admin.scratchMount();
      const client = new VaultClient({
        transport: createVaultTransport({ address: vault.address, ...(vault.caPem === undefined ? {} : { caPem: vault.caPem }) }),
        tokenSource: staticTokenSource(vault.rootToken),
        logger: silentLogger,
      });
      try {
        await applyBootstrap(client, bootstrapSettingsSchema.parse({ mountPath: mount, healthTimeoutMs: 30_000 }));
      } finally {
        client.close();
      }
      // What an operator gives the ca-service: a renewable token that may issue and sign with the role.
      const policy = `fsm-ca-service-${mount}`;
      await admin.writePolicy(policy, `path "${mount}/issue/fsm" { capabilities = ["update"] }\npath "${mount}/sign/fsm" { capabilities = ["update"] }\n`);
      token = await admin.createToken({ policies: [policy], ttl: '1h', renewable: true });
      vaultEnv = { CERT_MANAGER: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: token, VAULT_MOUNT_PATH: mount, ...(vault.caFile === undefined ? {} : { VAULT_CACERT: vault.caFile }) };
    }, 120_000);
    afterAll(async () => {
      await admin?.cleanup();
      await vault?.close();
    });

    it('writes the Vault provider lines into its own output: requests, token renewal, TTL-cap warnings — never the token', async () => {
      app = new AppProcess('ca-service', { env: baseEnv(vaultEnv) });
      await app.waitForLine(/ca-service ready/, 60_000);
      const startLines = parsed(app).filter((l) => l.component === 'provider');
      expect(startLines.some((l) => l.msg === 'vault request' && l.vault?.path === 'auth/token/lookup-self' && l.vault.status === 200)).toBe(true);
      expect(startLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['vault token renewal scheduled', 'vault root certificates published as ca.crt', 'vault provider ready']));

      // Two days asked for, the role allows 24h: Vault caps it and says so.
      const job = await queue.add('issue-batch', { version: 1, requests: [item('capped.bookstore.cluster.local', 48 * 3_600_000)] });
      const result: IssueJobResult = await job.waitUntilFinished(events, 60_000);
      expect(result.results[0]?.ok).toBe(true);
      await app.waitForLine(/"msg":"vault warning"/, 10_000);
      const lines = parsed(app).filter((l) => l.component === 'provider');
      expect(lines.some((l) => l.msg === 'vault request' && l.vault?.path === `${mount}/issue/fsm` && l.vault.status === 200)).toBe(true);
      expect(lines.find((l) => l.msg === 'vault warning')?.warning).toMatch(/max_?ttl/i);
      expect(app.recentOutput.join('\n')).not.toContain(token);
    }, 120_000);

    it('refuses to start (exit 2, naming the option) with a shutdown budget shorter than a Vault request may take to finish', async () => {
      app = new AppProcess('ca-service', { env: baseEnv({ ...vaultEnv, WORKER_SHUTDOWN_TIMEOUT: '5s' }) });
      expect(await app.exited()).toBe(2);
      const fatal = parsed(app).filter((l) => l.level === 60);
      expect(fatal.map((l) => l.msg)).toEqual([
        'ca-service failed to start: Invalid configuration: worker.shutdownTimeout="5s" (WORKER_SHUTDOWN_TIMEOUT): allowed: at least 12s with the vault provider, whose calls in flight take up to 10s to settle once cancelled',
      ]);
    }, 60_000);
  });

  describe('cert-manager', () => {
    let kube: KubernetesEmulator;
    let certManager: CertManagerEmulator;
    let kubeconfig: string;

    beforeAll(async () => {
      kube = await KubernetesEmulator.start();
      certManager = CertManagerEmulator.install(kube);
      const ca = createRootCa({ commonName: 'mesh-ca.cert-manager.example' });
      certManager.createCaIssuer({ name: 'fsm-ca', namespace: 'fsm-system', ca });
      kube.store.create(kube.secrets, 'fsm-system', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'fsm-ca-bundle', namespace: 'fsm-system' },
        type: 'Opaque',
        data: { 'ca.crt': Buffer.from(ca.certificatePem).toString('base64') },
      });
      kubeconfig = path.join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, kube.kubeconfigYaml(), { mode: 0o600 });
    });
    afterAll(async () => {
      await kube?.close();
    });

    it('on SIGTERM during a CertificateRequest that will not be signed in time, deletes it, hands the job back and exits 0 within the budget', async () => {
      const env = baseEnv({
        CERT_MANAGER: 'cert-manager',
        KUBECONFIG: kubeconfig,
        FSM_SECRET_STORE: 'kubernetes',
        FSM_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        // The provider waits up to 60 s for a request; the budget is far shorter.
        WORKER_SHUTDOWN_TIMEOUT: '15s',
      });
      app = new AppProcess('ca-service', { env });
      await app.waitForLine(/ca-service ready/, 60_000);

      certManager.setBehaviour({ signing: 'stall' });
      const job = await queue.add('issue-batch', { version: 1, requests: [item('slow.bookstore.cluster.local')] });
      await eventually(async () => (certManager.listCertificateRequests('fsm-system').length === 1 ? true : undefined), 30_000, 'the CertificateRequest to be created');

      app.signal('SIGTERM');
      expect(await app.exited()).toBe(0);
      const output = app.recentOutput.join('\n');
      expect(output).toContain('cancelling the jobs in hand');
      expect(output).toContain('stopped cleanly after cancelling work in flight');
      // Nothing left behind in the cluster, and the job was neither failed nor lost.
      expect(certManager.listCertificateRequests('fsm-system')).toEqual([]);
      expect(['waiting', 'delayed', 'prioritized']).toContain(await job.getState());
      expect((await queue.getJob(String(job.id)))?.attemptsMade).toBe(0);

      // The next replica issues it.
      certManager.setBehaviour({ signing: 'sign' });
      app.restart();
      const result: IssueJobResult = await job.waitUntilFinished(events, 60_000);
      expect(result.results[0]?.ok).toBe(true);
      expect(certManager.listCertificateRequests('fsm-system')).toEqual([]);
    }, 150_000);
  });
});
