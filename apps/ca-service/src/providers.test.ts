// The ca-service process with the Vault and cert-manager providers: the provider writes its
// log lines into the service's output (docs/vault.md promises them), and a SIGTERM during a
// provider call that will not finish in time cancels it cleanly inside the shutdown budget.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultClient, applyBootstrap, bootstrapSettingsSchema, createVaultTransport, silentLogger, staticTokenSource } from '@fsm-certs/providers';
import type { IssueItem, IssueJobResult } from '@fsm-certs/queue';
import type { AppProcess } from '@fsm-certs/stack';
import { CertManagerEmulator, KubernetesEmulator, VaultAdmin, eventually, startVaultTarget, type VaultTarget } from '@fsm-certs/testing';
import { createRootCa } from '@fsm-certs/x509';
import { caServiceFixture, issueItem } from './ca-service-fixture.test-helpers.js';

interface LogLine {
  readonly msg?: string;
  readonly component?: string;
  readonly vault?: { readonly path?: string; readonly status?: number };
  readonly warning?: string;
  readonly level?: number;
}

function item(commonName: string, validityMs = 3_600_000): IssueItem {
  return issueItem(commonName, { validityMs });
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
  const service = caServiceFixture('{fsm-ca-providers}', { appendOnly: false });
  let app: AppProcess | undefined;

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
      app = service.spawn(vaultEnv);
      await app.waitForLine(/ca-service ready/, 60_000);
      const startLines = parsed(app).filter((l) => l.component === 'provider');
      expect(startLines.some((l) => l.msg === 'vault request' && l.vault?.path === 'auth/token/lookup-self' && l.vault.status === 200)).toBe(true);
      expect(startLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['vault token renewal scheduled', 'vault root certificates published as ca.crt', 'vault provider ready']));

      // Two days asked for, the role allows 24h: Vault caps it and says so.
      const job = await service.queue.add('issue-batch', { version: 1, requests: [item('capped.bookstore.cluster.local', 48 * 3_600_000)] });
      const result: IssueJobResult = await job.waitUntilFinished(service.events, 60_000);
      expect(result.results[0]?.ok).toBe(true);
      await app.waitForLine(/"msg":"vault warning"/, 10_000);
      const lines = parsed(app).filter((l) => l.component === 'provider');
      expect(lines.some((l) => l.msg === 'vault request' && l.vault?.path === `${mount}/issue/fsm` && l.vault.status === 200)).toBe(true);
      expect(lines.find((l) => l.msg === 'vault warning')?.warning).toMatch(/max_?ttl/i);
      expect(app.recentOutput.join('\n')).not.toContain(token);
    }, 120_000);

    it('refuses to start (exit 2, naming the option) with a shutdown budget shorter than a Vault request may take to finish', async () => {
      app = service.spawn({ ...vaultEnv, WORKER_SHUTDOWN_TIMEOUT: '5s' });
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
      kubeconfig = path.join(service.dir, 'kubeconfig');
      writeFileSync(kubeconfig, kube.kubeconfigYaml(), { mode: 0o600 });
    });
    afterAll(async () => {
      await kube?.close();
    });

    it('on SIGTERM during a CertificateRequest that will not be signed in time, deletes it, hands the job back and exits 0 within the budget', async () => {
      const env = {
        CERT_MANAGER: 'cert-manager',
        KUBECONFIG: kubeconfig,
        FSM_SECRET_STORE: 'kubernetes',
        FSM_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        // The provider waits up to 60 s for a request; the budget is far shorter.
        WORKER_SHUTDOWN_TIMEOUT: '15s',
      };
      app = service.spawn(env);
      await app.waitForLine(/ca-service ready/, 60_000);

      certManager.setBehaviour({ signing: 'stall' });
      const job = await service.queue.add('issue-batch', { version: 1, requests: [item('slow.bookstore.cluster.local')] });
      await eventually(async () => (certManager.listCertificateRequests('fsm-system').length === 1 ? true : undefined), 30_000, 'the CertificateRequest to be created');

      app.signal('SIGTERM');
      expect(await app.exited()).toBe(0);
      const output = app.recentOutput.join('\n');
      expect(output).toContain('cancelling the jobs in hand');
      expect(output).toContain('stopped cleanly after cancelling work in flight');
      // Nothing left behind in the cluster, and the job was neither failed nor lost.
      expect(certManager.listCertificateRequests('fsm-system')).toEqual([]);
      expect(['waiting', 'delayed', 'prioritized']).toContain(await job.getState());
      expect((await service.queue.getJob(String(job.id)))?.attemptsMade).toBe(0);

      // The next replica issues it.
      certManager.setBehaviour({ signing: 'sign' });
      app.restart();
      const result: IssueJobResult = await job.waitUntilFinished(service.events, 60_000);
      expect(result.results[0]?.ok).toBe(true);
      expect(certManager.listCertificateRequests('fsm-system')).toEqual([]);
    }, 150_000);
  });
});
