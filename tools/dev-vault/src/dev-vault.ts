// Starts a development Vault and applies vault-bootstrap's setup to it, like deploy-vault.sh.
// Which Vault, in order: VAULT_ADDR + VAULT_TOKEN from the environment → a container runtime
// (hashicorp/vault dev server) → a local `bao`/`vault` binary (OpenBao from
// tools/test-tools/install-openbao.sh: `bao server -dev`) → the in-repo emulator; `--emulator`
// picks the emulator. The choice is printed with its version.
import {
  VaultClient, applyBootstrap, bootstrapSettingsSchema, createVaultTransport, silentLogger, staticTokenSource, waitForHealth,
} from '@fsm-certs/providers';
import type { PlannedStep } from '@fsm-certs/providers';
import { startVaultTarget } from '@fsm-certs/testing';
import type { VaultTarget } from '@fsm-certs/testing';

export interface DevVaultOptions {
  /** `auto`: the order above; `emulator`: the in-repo emulator only. */
  readonly mode: 'auto' | 'emulator';
  /** Host port; 0 = any free port. */
  readonly port: number;
  readonly token: string;
  readonly role: string;
  /** Serve https (`bao server -dev-tls`, or the emulator with a throwaway CA); prints VAULT_CACERT. */
  readonly https: boolean;
  readonly out: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export interface DevVault {
  readonly address: string;
  readonly token: string;
  readonly caFile: string | undefined;
  readonly description: string;
  stop(): Promise<void>;
}

async function startBackend(options: DevVaultOptions): Promise<{ vault: DevVault; caPem: string | undefined }> {
  const env = options.env ?? process.env;
  const target: VaultTarget = await startVaultTarget({
    env: options.mode === 'emulator' ? { ...env, FSM_TEST_VAULT: 'emulator' } : env,
    tls: options.https,
    rootToken: options.token,
    ...(options.port === 0 ? {} : { port: options.port }),
    suite: 'dev-vault',
    record: false,
    print: options.out,
  });
  if (target.kind === 'emulator' && target.caPem !== undefined) {
    // The emulator keeps its CA in memory only: write it where the export line can point.
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const caFile = path.join(mkdtempSync(path.join(tmpdir(), 'fsm-dev-vault-')), 'vault-ca.pem');
    writeFileSync(caFile, target.caPem, { mode: 0o644 });
    return { vault: { address: target.address, token: target.rootToken, caFile, description: target.description, stop: () => target.close() }, caPem: target.caPem };
  }
  if (options.https && !target.address.startsWith('https:')) {
    await target.close();
    throw new Error(`--https: ${target.description} serves plain http; unset VAULT_ADDR or drop --https.`);
  }
  return { vault: { address: target.address, token: target.rootToken, caFile: target.caFile, description: target.description, stop: () => target.close() }, caPem: target.caPem };
}

function stepLine(step: PlannedStep): string {
  const mark = step.action === 'none' ? 'unchanged' : step.action === 'create' ? 'created' : 'updated';
  return `  ${step.name.padEnd(6)} ${mark.padEnd(10)} ${step.summary}`;
}

export function exportLines(vault: DevVault, role: string): string[] {
  const lines = [`export VAULT_ADDR=${vault.address} VAULT_TOKEN=${vault.token}`, `export CERT_MANAGER=vault VAULT_ROLE=${role}`];
  if (vault.caFile !== undefined) lines.push(`export VAULT_CACERT=${vault.caFile}`);
  return lines;
}

/** Start, bootstrap, print the export lines. The caller keeps it running and calls stop(). */
export async function startDevVault(options: DevVaultOptions): Promise<DevVault> {
  const { vault, caPem } = await startBackend(options);
  try {
    const client = new VaultClient({
      transport: createVaultTransport({ address: vault.address, ...(caPem === undefined ? {} : { caPem }) }),
      tokenSource: staticTokenSource(vault.token),
      logger: silentLogger,
    });
    const settings = bootstrapSettingsSchema.parse({ role: { name: options.role } });
    options.out(`vault-bootstrap: ${vault.address}, mount ${settings.mountPath}/, role ${settings.role.name}`);
    options.out(`  health unchanged  ${await waitForHealth(client, settings)}`);
    const report = await applyBootstrap(client, settings, (step) => options.out(stepLine(step)));
    options.out(report.changed ? 'done: Vault PKI is set up' : 'done: no changes');
    return vault;
  } catch (error) {
    await vault.stop();
    throw error;
  }
}
