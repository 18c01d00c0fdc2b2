// vault-bootstrap's logic: deploy-vault.sh as an idempotent plan/apply against any Vault.
// plan() only reads; apply() changes what plan() found different and reports, per step, whether
// anything changed — a second run reports no changes.
import { ProviderError } from '../errors.js';
import { realSleep } from './backoff.js';
import type { Sleep } from './backoff.js';
import { keyBitsFor, roleKeyUsage, secondsOf } from './bootstrap-settings.js';
import type { BootstrapSettings } from './bootstrap-settings.js';
import type { VaultRole } from './schemas.js';
import type { RoleParams, VaultClient } from './vault-client.js';

export type StepName = 'health' | 'mount' | 'tune' | 'urls' | 'role' | 'root';

export interface PlannedStep {
  readonly name: StepName;
  /** `none`: already as wanted. */
  readonly action: 'none' | 'create' | 'update';
  readonly summary: string;
}

export interface BootstrapReport {
  readonly steps: readonly PlannedStep[];
  readonly changed: boolean;
}

export interface BootstrapDeps {
  readonly sleep?: Sleep;
  readonly now?: () => number;
}

/** Poll sys/health until Vault is initialised and unsealed; BACKEND_UNAVAILABLE after the timeout. */
export async function waitForHealth(client: VaultClient, settings: Pick<BootstrapSettings, 'healthTimeoutMs' | 'healthIntervalMs'>, deps: BootstrapDeps = {}): Promise<string> {
  const sleep = deps.sleep ?? realSleep;
  const now = deps.now ?? Date.now;
  const deadline = now() + settings.healthTimeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const health = await client.health();
      if (health.initialized && !health.sealed) return `Vault ${health.version ?? ''} at ${client.address} is initialised and unsealed`.replace('  ', ' ');
      last = !health.initialized ? 'Vault is not initialised (run vault operator init)' : 'Vault is sealed (unseal it)';
    } catch (error) {
      if (!(error instanceof ProviderError) || error.code !== 'BACKEND_UNAVAILABLE') throw error;
      last = error.message;
    }
    if (now() >= deadline) {
      throw new ProviderError('BACKEND_UNAVAILABLE', `Vault at ${client.address} was not ready within ${settings.healthTimeoutMs} ms: ${last}`);
    }
    await sleep(settings.healthIntervalMs);
  }
}

export function defaultUrls(address: string, mount: string): { issuingCertificates: string[]; crlDistributionPoints: string[] } {
  const base = address.replace(/\/+$/, '');
  return { issuingCertificates: [`${base}/v1/${mount}/ca`], crlDistributionPoints: [`${base}/v1/${mount}/crl`] };
}

export function desiredRole(settings: BootstrapSettings): RoleParams {
  const r = settings.role;
  return {
    allow_any_name: r.allowAnyName,
    allow_subdomains: r.allowSubdomains,
    allow_bare_domains: r.allowBareDomains,
    allow_localhost: r.allowLocalhost,
    allowed_domains: r.allowedDomains,
    allowed_uri_sans: r.allowedUriSans,
    enforce_hostnames: r.enforceHostnames,
    max_ttl: r.maxTtl,
    key_type: r.keyType,
    key_bits: keyBitsFor(r.keyType, r.keyBits),
    key_usage: roleKeyUsage(r.keyType),
    // The gateway decides the identity, not the CSR (docs/architecture.md, certificates): Vault's defaults are true.
    use_csr_common_name: false,
    use_csr_sans: false,
  };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** Differences between the role Vault has and the one we want, as "field: have -> want". */
export function roleDifferences(have: VaultRole, want: RoleParams): string[] {
  const diffs: string[] = [];
  const flag = (key: 'allow_any_name' | 'allow_subdomains' | 'allow_bare_domains' | 'allow_localhost' | 'enforce_hostnames' | 'use_csr_common_name' | 'use_csr_sans'): void => {
    if (have[key] !== want[key]) diffs.push(`${key}: ${String(have[key])} -> ${String(want[key])}`);
  };
  flag('allow_any_name');
  flag('allow_subdomains');
  flag('allow_bare_domains');
  flag('allow_localhost');
  flag('enforce_hostnames');
  flag('use_csr_common_name');
  flag('use_csr_sans');
  if (!sameSet(have.allowed_domains, want.allowed_domains)) diffs.push(`allowed_domains: [${have.allowed_domains.join(',')}] -> [${want.allowed_domains.join(',')}]`);
  if (!sameSet(have.allowed_uri_sans, want.allowed_uri_sans)) diffs.push(`allowed_uri_sans: [${have.allowed_uri_sans.join(',')}] -> [${want.allowed_uri_sans.join(',')}]`);
  if (have.max_ttl !== secondsOf(want.max_ttl)) diffs.push(`max_ttl: ${String(have.max_ttl)}s -> ${secondsOf(want.max_ttl)}s`);
  if (have.key_type !== want.key_type) diffs.push(`key_type: ${String(have.key_type)} -> ${want.key_type}`);
  if (have.key_bits !== want.key_bits) diffs.push(`key_bits: ${String(have.key_bits)} -> ${want.key_bits}`);
  // Vault reads key_usage back as written; a role without it has Vault's default, which includes KeyEncipherment.
  if (!sameSet(have.key_usage, want.key_usage)) diffs.push(`key_usage: [${have.key_usage.join(',')}] -> [${want.key_usage.join(',')}]`);
  return diffs;
}

/** Read-only: what apply() would do. Assumes Vault is healthy (call waitForHealth first). */
export async function planBootstrap(client: VaultClient, settings: BootstrapSettings): Promise<PlannedStep[]> {
  const mount = settings.mountPath;
  const steps: PlannedStep[] = [];
  const mounts = await client.mounts();
  const type = mounts.get(mount);
  if (type !== undefined && type !== 'pki') {
    throw new ProviderError('CONFIGURATION_INVALID', `Vault path ${mount}/ is already mounted as "${type}", not pki: choose another mount path (vault.mountPath / --mount).`);
  }
  const exists = type === 'pki';
  steps.push(exists ? { name: 'mount', action: 'none', summary: `${mount}/ is a pki mount` } : { name: 'mount', action: 'create', summary: `enable the pki secrets engine at ${mount}/` });

  const wantMax = secondsOf(settings.maxLeaseTtl);
  const tune = exists ? await client.readTune(mount) : undefined;
  steps.push(tune?.maxLeaseTtlSeconds === wantMax
    ? { name: 'tune', action: 'none', summary: `max lease TTL is ${settings.maxLeaseTtl}` }
    : { name: 'tune', action: 'update', summary: `set max lease TTL ${tune === undefined ? '' : `${tune.maxLeaseTtlSeconds}s `}-> ${settings.maxLeaseTtl}`.replace('  ', ' ') });

  const wantUrls = {
    issuingCertificates: settings.issuingCertificates ?? defaultUrls(client.address, mount).issuingCertificates,
    crlDistributionPoints: settings.crlDistributionPoints ?? defaultUrls(client.address, mount).crlDistributionPoints,
  };
  const urls = exists ? await client.readUrls(mount) : undefined;
  const urlsSame = urls !== undefined && sameSet(urls.issuingCertificates, wantUrls.issuingCertificates) && sameSet(urls.crlDistributionPoints, wantUrls.crlDistributionPoints);
  steps.push(urlsSame
    ? { name: 'urls', action: 'none', summary: `config/urls point at ${wantUrls.issuingCertificates.join(',')}` }
    : { name: 'urls', action: 'update', summary: `set issuing_certificates=${wantUrls.issuingCertificates.join(',')} crl_distribution_points=${wantUrls.crlDistributionPoints.join(',')}` });

  const want = desiredRole(settings);
  const role = exists ? await client.readRole(mount, settings.role.name) : undefined;
  if (role === undefined) steps.push({ name: 'role', action: 'create', summary: `write role ${settings.role.name} (max_ttl ${want.max_ttl}, key ${want.key_type}/${want.key_bits})` });
  else {
    const diffs = roleDifferences(role, want);
    steps.push(diffs.length === 0
      ? { name: 'role', action: 'none', summary: `role ${settings.role.name} is as configured` }
      : { name: 'role', action: 'update', summary: `update role ${settings.role.name}: ${diffs.join('; ')}` });
  }

  const ca = exists ? await client.readCaPem(mount) : undefined;
  steps.push(ca !== undefined
    ? { name: 'root', action: 'none', summary: `${mount}/ already has a CA (not regenerated)` }
    : { name: 'root', action: 'create', summary: `generate root ${settings.root.commonName} for ${settings.root.ttl}` });
  return steps;
}

/** Make Vault match the settings. onStep is called after each step with what happened. */
export async function applyBootstrap(
  client: VaultClient,
  settings: BootstrapSettings,
  onStep: (step: PlannedStep) => void = () => undefined,
): Promise<BootstrapReport> {
  const mount = settings.mountPath;
  const plan = await planBootstrap(client, settings);
  const done: PlannedStep[] = [];
  for (const step of plan) {
    if (step.action !== 'none') {
      switch (step.name) {
        case 'mount':
          await client.enableMount(mount, 'pki');
          break;
        case 'tune':
          await client.tune(mount, settings.maxLeaseTtl);
          break;
        case 'urls':
          await client.writeUrls(mount, {
            issuingCertificates: settings.issuingCertificates ?? defaultUrls(client.address, mount).issuingCertificates,
            crlDistributionPoints: settings.crlDistributionPoints ?? defaultUrls(client.address, mount).crlDistributionPoints,
          });
          break;
        case 'role':
          await client.writeRole(mount, settings.role.name, desiredRole(settings));
          break;
        case 'root': {
          // Check again right before: a second root on a mount adds an issuer, which we never want by accident.
          if ((await client.readCaPem(mount)) !== undefined) {
            done.push({ name: 'root', action: 'none', summary: `${mount}/ got a CA meanwhile (not regenerated)` });
            onStep(done[done.length - 1] ?? step);
            continue;
          }
          await client.generateRoot(mount, { commonName: settings.root.commonName, ttl: settings.root.ttl, keyType: settings.root.keyType, keyBits: keyBitsFor(settings.root.keyType, settings.root.keyBits) });
          break;
        }
        case 'health':
          break;
      }
    }
    done.push(step);
    onStep(step);
  }
  return { steps: done, changed: done.some((s) => s.action !== 'none') };
}
