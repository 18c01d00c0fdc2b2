// Picks the Vault the integration suite runs against, in the order docs/architecture.md (tests) gives: VAULT_ADDR+VAULT_TOKEN
// from the environment, else a Testcontainers Vault dev server when a runtime answers, else the
// in-repo emulator. The suite names the target in its output.
import { VaultEmulator, detectContainerRuntime, startVaultContainer } from '@fsm-certs/testing';

export interface VaultTarget {
  readonly kind: 'env' | 'testcontainers' | 'emulator';
  readonly address: string;
  readonly rootToken: string;
  readonly caPem?: string;
  /** Take Vault away and bring it back with its state; undefined for a Vault we do not own (env). */
  readonly outage?: { down(): Promise<void>; up(): Promise<void> };
  close(): Promise<void>;
}

export async function startVaultTarget(env: NodeJS.ProcessEnv = process.env): Promise<VaultTarget> {
  const addr = env.VAULT_ADDR;
  const token = env.VAULT_TOKEN;
  if (addr !== undefined && addr !== '' && token !== undefined && token !== '') {
    const { readFileSync } = await import('node:fs');
    const caFile = env.VAULT_CACERT;
    return { kind: 'env', address: addr.replace(/\/+$/, ''), rootToken: token, ...(caFile ? { caPem: readFileSync(caFile, 'utf8') } : {}), close: () => Promise.resolve() };
  }
  if (await detectContainerRuntime()) {
    const container = await startVaultContainer();
    return {
      kind: 'testcontainers',
      address: container.address,
      rootToken: container.rootToken,
      outage: { down: () => container.pause(), up: () => container.unpause() },
      close: () => container.stop(),
    };
  }
  const emulator = await VaultEmulator.start();
  return {
    kind: 'emulator',
    address: emulator.address,
    rootToken: emulator.rootToken,
    outage: { down: () => emulator.stop(), up: () => emulator.start() },
    close: () => emulator.close(),
  };
}

/** A raw call with the root token, for setup the provider never does (creating tokens, unmounting). */
export async function rootCall(target: VaultTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${target.address}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': target.rootToken, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}
