// Wires a VaultProvider from the validated configuration (vault.* section): transport with the
// https CA, token source (vault.token or vault.secret.name/key in the namespace), client, provider.
import { readFile } from 'node:fs/promises';
import type { FsmConfig } from '@fsm-certs/config';
import { ProviderError } from '../errors.js';
import type { SecretStore } from '../secret-store/types.js';
import type { RetryPolicy, Sleep } from './backoff.js';
import type { VaultLogger } from './logger.js';
import { secretTokenSource, staticTokenSource } from './token-source.js';
import type { TokenSource } from './token-source.js';
import { createVaultTransport } from './transport.js';
import { VaultClient } from './vault-client.js';
import { VaultProvider } from './vault-provider.js';

export interface VaultConnectionSettings {
  readonly address: string;
  readonly caPem?: string;
  readonly tokenSource: TokenSource;
}

export function vaultAddress(vault: FsmConfig['vault']): string {
  if (vault.host === undefined) throw new ProviderError('CONFIGURATION_INVALID', 'vault.host (VAULT_HOST or VAULT_ADDR) is not set: point it at your Vault server.');
  const host = vault.host.includes(':') && !vault.host.startsWith('[') ? `[${vault.host}]` : vault.host;
  return `${vault.protocol}://${host}:${vault.port}`;
}

export async function vaultConnection(config: FsmConfig, store: SecretStore | undefined): Promise<VaultConnectionSettings> {
  const { vault } = config;
  let tokenSource: TokenSource;
  if (vault.token !== undefined) tokenSource = staticTokenSource(vault.token);
  else if (vault.secret.name !== undefined && vault.secret.key !== undefined && store !== undefined) {
    tokenSource = secretTokenSource(store, { namespace: config.namespace, name: vault.secret.name }, vault.secret.key);
  } else {
    throw new ProviderError('CONFIGURATION_INVALID', 'No Vault token: set vault.token (VAULT_TOKEN), or both vault.secret.name and vault.secret.key (VAULT_TOKEN_SECRET_NAME / VAULT_TOKEN_SECRET_KEY).');
  }
  let caPem: string | undefined;
  if (vault.caFile !== undefined) {
    try {
      caPem = await readFile(vault.caFile, 'utf8');
    } catch (error) {
      throw new ProviderError('CONFIGURATION_INVALID', `Cannot read vault.caFile (VAULT_CACERT) ${vault.caFile}: ${error instanceof Error ? error.message : String(error)}. Point it at the PEM CA of Vault's https certificate.`, { cause: error });
    }
  }
  return { address: vaultAddress(vault), tokenSource, ...(caPem === undefined ? {} : { caPem }) };
}

export interface VaultProviderDeps {
  readonly store: SecretStore;
  readonly logger: VaultLogger;
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: Sleep;
  readonly timeoutMs?: number;
}

export async function createVaultProvider(config: FsmConfig, deps: VaultProviderDeps): Promise<VaultProvider> {
  const connection = await vaultConnection(config, deps.store);
  const transport = createVaultTransport({ address: connection.address, ...(connection.caPem === undefined ? {} : { caPem: connection.caPem }), ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }) });
  const client = new VaultClient({ transport, tokenSource: connection.tokenSource, logger: deps.logger, ...(deps.retry === undefined ? {} : { retry: deps.retry }), ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }) });
  return VaultProvider.start({
    client,
    role: config.vault.role,
    mountPath: config.vault.mountPath,
    store: deps.store,
    caBundle: { namespace: config.namespace, name: config.caBundleSecretName },
    logger: deps.logger,
  });
}
