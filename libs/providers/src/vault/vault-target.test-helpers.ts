// What every Vault suite of this lib shares: a Vault target (real OpenBao by default, see
// startVaultTarget in @fsm-certs/testing), a scratch PKI mount bootstrapped like deploy-vault.sh,
// a file secret store, providers that are closed afterwards, and a cleanup that leaves the Vault
// as it was found.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VaultAdmin, startVaultTarget } from '@fsm-certs/testing';
import type { VaultTarget, VaultTargetOptions } from '@fsm-certs/testing';
import type { IssueRequest } from '../provider.js';
import { FileSecretStore } from '../secret-store/file-store.js';
import type { SecretRef } from '../secret-store/types.js';
import type { RetryPolicy } from './backoff.js';
import { applyBootstrap } from './bootstrap.js';
import { bootstrapSettingsSchema } from './bootstrap-settings.js';
import type { BootstrapSettingsInput } from './bootstrap-settings.js';
import type { VaultLogger } from './logger.js';
import type { Scheduler } from './token-renewer.js';
import { staticTokenSource } from './token-source.js';
import type { TokenSource } from './token-source.js';
import { createVaultTransport } from './transport.js';
import { VaultClient } from './vault-client.js';
import { VaultProvider } from './vault-provider.js';

export function memoryLogger(): VaultLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (obj: Record<string, unknown>, msg: string): void => {
    lines.push(`${msg} ${JSON.stringify(obj)}`);
  };
  return { lines, info: push, warn: push, error: push };
}

export const issueRequest = (commonName: string, extra: Partial<IssueRequest> = {}): IssueRequest => ({
  commonName,
  dnsNames: [],
  uris: [],
  ipAddresses: [],
  validityMs: 5400_000,
  keyAlgorithm: 'ecdsa-p256',
  ...extra,
});

export interface StartOptions {
  readonly role?: string;
  readonly token?: string;
  readonly tokenSource?: TokenSource;
  readonly retry?: Partial<RetryPolicy>;
  readonly logger?: VaultLogger;
  readonly schedule?: Scheduler;
  readonly timeoutMs?: number;
}

export interface VaultSuite {
  readonly target: VaultTarget;
  readonly admin: VaultAdmin;
  /** This run's own PKI mount (`fsm-it-<random>`), removed afterwards. */
  readonly mount: string;
  readonly store: FileSecretStore;
  readonly caBundle: SecretRef;
  client(options?: StartOptions): VaultClient;
  /** Bootstrap the mount (role `fsm` unless settings say otherwise). */
  bootstrap(input?: BootstrapSettingsInput): ReturnType<typeof applyBootstrap>;
  start(options?: StartOptions): Promise<VaultProvider>;
  close(): Promise<void>;
}

export async function startVaultSuite(options: VaultTargetOptions = {}): Promise<VaultSuite> {
  const target = await startVaultTarget(options);
  const admin = new VaultAdmin(target);
  const mount = admin.scratchMount();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-vault-it-'));
  const store = new FileSecretStore({ dataDir });
  const caBundle = { namespace: 'fsm-system', name: 'fsm-ca-bundle' };
  const providers: VaultProvider[] = [];
  const client = (o: StartOptions = {}): VaultClient => {
    const transport = createVaultTransport({ address: target.address, timeoutMs: o.timeoutMs ?? 5_000, ...(target.caPem === undefined ? {} : { caPem: target.caPem }) });
    return new VaultClient({
      transport,
      tokenSource: o.tokenSource ?? staticTokenSource(o.token ?? target.rootToken),
      logger: o.logger ?? memoryLogger(),
      retry: o.retry ?? { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
    });
  };
  return {
    target,
    admin,
    mount,
    store,
    caBundle,
    client,
    bootstrap: (input = {}) => applyBootstrap(client(), bootstrapSettingsSchema.parse({ mountPath: mount, healthTimeoutMs: 10_000, ...input })),
    async start(o = {}) {
      const logger = o.logger ?? memoryLogger();
      const provider = await VaultProvider.start({
        client: client({ ...o, logger }),
        role: o.role ?? 'fsm',
        mountPath: mount,
        store,
        caBundle,
        logger,
        ...(o.schedule === undefined ? {} : { schedule: o.schedule }),
      });
      providers.push(provider);
      return provider;
    },
    async close() {
      await Promise.all(providers.map((p) => p.close()));
      if (target.faults !== undefined) await target.faults.start().catch(() => undefined);
      await admin.cleanup();
      await target.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
