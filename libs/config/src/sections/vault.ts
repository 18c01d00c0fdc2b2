// vault.*: how to reach Vault PKI. Checked for completeness only when the provider is vault
// (see schema.ts), so a tresor install need not mention Vault at all.
import { z } from 'zod';
import type { EnvBinding } from './env-binding.js';

export const vaultSchema = z
  .strictObject({
    host: z.string().min(1, { error: 'a host name such as vault.fsm-system.svc.cluster.local' }).optional(),
    port: z.coerce
      .number({ error: 'a TCP port number 1-65535' })
      .int({ error: 'a TCP port number 1-65535' })
      .min(1, { error: 'a TCP port number 1-65535' })
      .max(65535, { error: 'a TCP port number 1-65535' })
      .default(8200),
    protocol: z.enum(['http', 'https']).default('http'),
    role: z.string().min(1, { error: 'a Vault PKI role name such as fsm' }).default('fsm'),
    token: z.string().min(1, { error: 'a non-empty Vault token' }).optional(),
    secret: z
      .strictObject({
        name: z.string().min(1, { error: 'a Kubernetes Secret name' }).optional(),
        key: z.string().min(1, { error: 'a data key of that Secret' }).optional(),
      })
      .prefault({}),
    caFile: z.string().min(1, { error: 'a path to a PEM CA file' }).optional(),
    mountPath: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, { error: 'a Vault mount path such as pki (no leading or trailing "/")' })
      .default('pki'),
  })
  .prefault({});

/** VAULT_ADDR (http://127.0.0.1:8200) fills protocol, host and port; the specific variables win. */
function expandVaultAddr(value: string): Array<{ path: readonly string[]; value: unknown }> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Leave the garbage where validation reports it with the variable's name.
    return [{ path: ['vault', 'host'], value: '' }];
  }
  const protocol = url.protocol.replace(/:$/, '');
  const port = url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port);
  return [
    { path: ['vault', 'protocol'], value: protocol },
    { path: ['vault', 'host'], value: url.hostname },
    { path: ['vault', 'port'], value: port },
  ];
}

export const vaultEnv: readonly EnvBinding[] = [
  { env: 'VAULT_ADDR', path: ['vault', 'host'], expand: expandVaultAddr },
  { env: 'VAULT_HOST', path: ['vault', 'host'] },
  { env: 'VAULT_PORT', path: ['vault', 'port'] },
  { env: 'VAULT_PROTOCOL', path: ['vault', 'protocol'] },
  { env: 'VAULT_ROLE', path: ['vault', 'role'] },
  { env: 'VAULT_TOKEN', path: ['vault', 'token'], secret: true },
  { env: 'VAULT_TOKEN_SECRET_NAME', path: ['vault', 'secret', 'name'] },
  { env: 'VAULT_TOKEN_SECRET_KEY', path: ['vault', 'secret', 'key'] },
  { env: 'VAULT_CACERT', path: ['vault', 'caFile'] },
  { env: 'VAULT_MOUNT_PATH', path: ['vault', 'mountPath'] },
];
