// Starts a development Vault — a pinned hashicorp/vault dev server through Testcontainers, or the
// in-repo emulator with --emulator — and applies vault-bootstrap's setup to it, like deploy-vault.sh.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  VaultClient, applyBootstrap, bootstrapSettingsSchema, createNodeVaultTransport, silentLogger, staticTokenSource, waitForHealth,
} from '@fsm-certs/providers';
import type { PlannedStep } from '@fsm-certs/providers';
import { VAULT_IMAGE, VaultEmulator, detectContainerRuntime, startVaultContainer } from '@fsm-certs/testing';
import { createRootCa, issueLeaf } from '@fsm-certs/x509';

export interface DevVaultOptions {
  readonly mode: 'container' | 'emulator';
  /** Host port; 0 = any free port. */
  readonly port: number;
  readonly token: string;
  readonly role: string;
  /** Emulator only: serve https with a throwaway CA written to a temp file. */
  readonly https: boolean;
  readonly out: (line: string) => void;
}

export interface DevVault {
  readonly address: string;
  readonly token: string;
  readonly caFile: string | undefined;
  stop(): Promise<void>;
}

export class NoContainerRuntimeError extends Error {
  override readonly name = 'NoContainerRuntimeError';
  readonly code = 'NO_CONTAINER_RUNTIME';
  constructor() {
    super('No container runtime answered (Docker/Podman not running or not reachable through DOCKER_HOST), so the Vault container cannot start. '
      + 'For offline work run the in-repo emulator instead:  npm run dev:vault -- --emulator');
  }
}

/** A self-signed CA and a 127.0.0.1/localhost server certificate for the https emulator. */
function devTls(): { certificatePem: string; privateKeyPem: string; caFile: string } {
  const ca = createRootCa({ commonName: 'fsm-certs dev-vault https CA', validityMs: 30 * 24 * 3600_000 });
  const leaf = issueLeaf(ca.issuer, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityMs: 29 * 24 * 3600_000 });
  const dir = mkdtempSync(path.join(tmpdir(), 'fsm-dev-vault-'));
  const caFile = path.join(dir, 'vault-ca.pem');
  writeFileSync(caFile, ca.certificatePem, { mode: 0o644 });
  return { certificatePem: leaf.certificatePem, privateKeyPem: leaf.privateKeyPem ?? '', caFile };
}

async function startBackend(options: DevVaultOptions): Promise<DevVault> {
  if (options.mode === 'container') {
    if (options.https) throw new Error('--https is only supported with --emulator (a Vault dev server serves plain http).');
    if (!(await detectContainerRuntime())) throw new NoContainerRuntimeError();
    options.out(`starting ${VAULT_IMAGE} in dev mode (IPC_LOCK) ...`);
    const container = await startVaultContainer({ rootToken: options.token, ...(options.port === 0 ? {} : { hostPort: options.port }) });
    return { address: container.address, token: options.token, caFile: undefined, stop: () => container.stop() };
  }
  const tls = options.https ? devTls() : undefined;
  const emulator = await VaultEmulator.start({
    rootToken: options.token,
    port: options.port,
    ...(tls === undefined ? {} : { tls: { certificatePem: tls.certificatePem, privateKeyPem: tls.privateKeyPem } }),
  });
  options.out(`started the Vault emulator (test fixture, in-memory) at ${emulator.address}`);
  return { address: emulator.address, token: options.token, caFile: tls?.caFile, stop: () => emulator.close() };
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
  const vault = await startBackend(options);
  try {
    const caPem = vault.caFile === undefined ? undefined : (await import('node:fs')).readFileSync(vault.caFile, 'utf8');
    const client = new VaultClient({
      transport: createNodeVaultTransport({ address: vault.address, ...(caPem === undefined ? {} : { caPem }) }),
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
