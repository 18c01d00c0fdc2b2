// Command-line flags of vault-bootstrap → bootstrap settings (validated by the lib's zod schema).
import { parseArgs } from 'node:util';
import { parseDurationMs } from '@fsm-certs/core';

export const USAGE = `Usage: vault-bootstrap [--dry-run] [options]

Applies deploy-vault.sh's PKI setup to the Vault at VAULT_ADDR (or VAULT_HOST/VAULT_PORT/VAULT_PROTOCOL)
with VAULT_TOKEN, idempotently. VAULT_CACERT names the CA file for an https Vault.

  --dry-run                     print the plan, change nothing
  --mount PATH                  PKI mount path (default: VAULT_MOUNT_PATH or pki)
  --role NAME                   role name (default: VAULT_ROLE or fsm)
  --max-ttl DURATION            role max_ttl (default 24h)
  --max-lease-ttl DURATION      mount max lease TTL (default 87600h)
  --allow-any-name BOOL         default true     --allow-subdomains BOOL    default true
  --allow-bare-domains BOOL     default true     --allow-localhost BOOL     default true
  --allowed-domains LIST        comma-separated  --allowed-uri-sans LIST    default spiffe://*
  --key-type ec|rsa             role key type (default ec)   --key-bits N
  --root-cn NAME                default fsm.root --root-ttl DURATION        default 87600h
  --root-key-type ec|rsa        default ec
  --wait DURATION               how long to wait for Vault to be healthy (default 60s)

Exit codes: 0 done, 2 bad configuration, 3 Vault unreachable, 4 Vault refused.`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedArgs {
  readonly help: boolean;
  readonly dryRun: boolean;
  /** Raw settings, validated by bootstrapSettingsSchema where they are used. */
  readonly settings: Record<string, unknown>;
}

function bool(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`--${name} must be true or false, got "${value}"`);
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

export function parseBootstrapArgs(argv: readonly string[], defaults: { mountPath: string; role: string }): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'dry-run': { type: 'boolean' },
        mount: { type: 'string' },
        role: { type: 'string' },
        'max-ttl': { type: 'string' },
        'max-lease-ttl': { type: 'string' },
        'allow-any-name': { type: 'string' },
        'allow-subdomains': { type: 'string' },
        'allow-bare-domains': { type: 'string' },
        'allow-localhost': { type: 'string' },
        'allowed-domains': { type: 'string' },
        'allowed-uri-sans': { type: 'string' },
        'key-type': { type: 'string' },
        'key-bits': { type: 'string' },
        'root-cn': { type: 'string' },
        'root-ttl': { type: 'string' },
        'root-key-type': { type: 'string' },
        wait: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const role: Record<string, unknown> = { name: values.role ?? defaults.role };
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) role[key] = value;
  };
  set('allowAnyName', bool('allow-any-name', values['allow-any-name']));
  set('allowSubdomains', bool('allow-subdomains', values['allow-subdomains']));
  set('allowBareDomains', bool('allow-bare-domains', values['allow-bare-domains']));
  set('allowLocalhost', bool('allow-localhost', values['allow-localhost']));
  set('allowedDomains', list(values['allowed-domains']));
  set('allowedUriSans', list(values['allowed-uri-sans']));
  set('maxTtl', values['max-ttl']);
  set('keyType', values['key-type']);
  set('keyBits', int('key-bits', values['key-bits']));
  const root: Record<string, unknown> = {};
  if (values['root-cn'] !== undefined) root.commonName = values['root-cn'];
  if (values['root-ttl'] !== undefined) root.ttl = values['root-ttl'];
  if (values['root-key-type'] !== undefined) root.keyType = values['root-key-type'];
  let healthTimeoutMs: number | undefined;
  if (values.wait !== undefined) {
    try {
      healthTimeoutMs = parseDurationMs(values.wait);
    } catch (error) {
      throw new UsageError(`--wait must be a duration such as 60s, got "${values.wait}"`, { cause: error });
    }
    if (healthTimeoutMs <= 0) throw new UsageError(`--wait must be a duration such as 60s, got "${values.wait}"`);
  }
  return {
    help: values.help === true,
    dryRun: values['dry-run'] === true,
    settings: {
      mountPath: values.mount ?? defaults.mountPath,
      ...(values['max-lease-ttl'] === undefined ? {} : { maxLeaseTtl: values['max-lease-ttl'] }),
      role,
      root,
      ...(healthTimeoutMs === undefined ? {} : { healthTimeoutMs }),
    },
  };
}
