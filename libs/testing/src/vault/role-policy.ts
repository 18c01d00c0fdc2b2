// The subset of Vault's PKI role checks that fsm-certs relies on: which names a role allows
// (allow_any_name / allowed_domains with allow_bare_domains / allow_subdomains / allow_localhost /
// enforce_hostnames / allowed_uri_sans) and how a requested TTL is capped by max_ttl.
import { badRequest, goDuration } from './http.js';
import type { RoleEntry } from './state.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

function isHostname(name: string): boolean {
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  return bare.split('.').every((label) => LABEL.test(label));
}

function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

/** true when the role allows this DNS name (used for the CN and each DNS SAN). */
export function roleAllowsName(role: RoleEntry, name: string): boolean {
  const lower = name.toLowerCase();
  if (role.enforceHostnames && !isHostname(lower)) return false;
  if (role.allowAnyName) return true;
  if (role.allowLocalhost && (lower === 'localhost' || lower === 'localdomain')) return true;
  for (const domain of role.allowedDomains.map((d) => d.toLowerCase())) {
    if (role.allowBareDomains && lower === domain) return true;
    if (role.allowSubdomains && lower.endsWith(`.${domain}`)) return true;
    if (role.allowGlobDomains && domain.includes('*') && globMatch(domain, lower)) return true;
  }
  return false;
}

export function checkNames(role: RoleEntry, commonName: string, dnsSans: readonly string[], uriSans: readonly string[], ipSans: readonly string[]): void {
  if (!roleAllowsName(role, commonName)) throw badRequest(`common name ${commonName} not allowed by this role`);
  for (const san of dnsSans) {
    if (!roleAllowsName(role, san)) throw badRequest(`subject alternate name ${san} not allowed by this role`);
  }
  for (const uri of uriSans) {
    if (!role.allowedUriSans.some((pattern) => globMatch(pattern, uri))) {
      throw badRequest(`URI Subject Alternative Names are not allowed in this role, but was provided ${uri}`);
    }
  }
  if (ipSans.length > 0 && !role.allowIpSans) {
    throw badRequest(`IP Subject Alternative Names are not allowed in this role, but was provided ${ipSans.join(',')}`);
  }
}

export interface TtlDecision {
  readonly ttlSeconds: number;
  readonly warnings: readonly string[];
}

/** Requested TTL (or the role's/mount's default), capped at the role's max_ttl (or the mount's max) with Vault's warning. */
export function decideTtl(role: RoleEntry, requested: number | undefined, mountDefault: number, mountMax: number): TtlDecision {
  const maxTtl = role.maxTtlSeconds > 0 ? Math.min(role.maxTtlSeconds, mountMax) : mountMax;
  const wanted = requested ?? (role.ttlSeconds > 0 ? role.ttlSeconds : mountDefault);
  if (wanted > maxTtl) {
    const warning = `TTL "${goDuration(wanted)}" is longer than permitted maxTTL "${goDuration(maxTtl)}", so maxTTL is being used`;
    return { ttlSeconds: maxTtl, warnings: requested === undefined ? [] : [warning] };
  }
  return { ttlSeconds: wanted, warnings: [] };
}
