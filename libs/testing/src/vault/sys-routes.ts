// sys/health, sys/mounts (+ tune), sys/policies/acl, sys/capabilities-self and auth/token/* of the
// emulated Vault.
import { randomUUID } from 'node:crypto';
import { VaultApiError, badRequest, envelope, notFound, parseBool, parseList, parseOptionalString, parseTtlSeconds } from './http.js';
import { capabilitiesOn, parsePolicy } from './acl.js';
import { empty, json } from './routes.js';
import type { RouteContext, RouteResult } from './routes.js';
import { SYSTEM_MAX_TTL_SECONDS, newPkiState } from './state.js';
import type { MountEntry, TokenEntry } from './state.js';

export interface SysState {
  readonly mounts: Map<string, MountEntry>;
  readonly tokens: Map<string, TokenEntry>;
  /** ACL policies by name (text as written); `root` and `default` are built in. */
  readonly policies: Map<string, string>;
  sealed: boolean;
  readonly version: string;
  readonly clusterId: string;
}

export function healthBody(state: SysState, now: Date): Record<string, unknown> {
  return {
    initialized: true,
    sealed: state.sealed,
    standby: false,
    performance_standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(now.getTime() / 1000),
    version: state.version,
    cluster_name: 'vault-cluster-emulator',
    cluster_id: state.clusterId,
  };
}

export function newMount(path: string, type: string, description = ''): MountEntry {
  return {
    path,
    type,
    description,
    accessor: `${type}_${randomUUID().slice(0, 8)}`,
    defaultLeaseTtlSeconds: SYSTEM_MAX_TTL_SECONDS,
    maxLeaseTtlSeconds: SYSTEM_MAX_TTL_SECONDS,
    pki: type === 'pki' ? newPkiState() : undefined,
  };
}

function mountListing(mount: MountEntry): Record<string, unknown> {
  return {
    type: mount.type,
    description: mount.description,
    accessor: mount.accessor,
    config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    options: null,
  };
}

function tuneData(mount: MountEntry): Record<string, unknown> {
  return {
    description: mount.description,
    default_lease_ttl: mount.defaultLeaseTtlSeconds,
    max_lease_ttl: mount.maxLeaseTtlSeconds,
    force_no_cache: false,
  };
}

function applyTune(mount: MountEntry, body: Record<string, unknown>): void {
  const max = parseTtlSeconds(body.max_lease_ttl, 'max_lease_ttl');
  const def = parseTtlSeconds(body.default_lease_ttl, 'default_lease_ttl');
  if (max !== undefined) mount.maxLeaseTtlSeconds = max === 0 ? SYSTEM_MAX_TTL_SECONDS : max;
  if (def !== undefined) mount.defaultLeaseTtlSeconds = def === 0 ? SYSTEM_MAX_TTL_SECONDS : def;
  if (mount.defaultLeaseTtlSeconds > mount.maxLeaseTtlSeconds) {
    throw badRequest('default lease TTL cannot be greater than the maximum lease TTL');
  }
}

export function handleMounts(state: SysState, ctx: RouteContext, rest: string): RouteResult {
  if (rest === '') {
    if (ctx.method !== 'GET') throw new VaultApiError(405, ['unsupported operation']);
    const listing: Record<string, unknown> = {};
    for (const mount of state.mounts.values()) listing[`${mount.path}/`] = mountListing(mount);
    return json(200, envelope({ data: listing, topLevel: listing }));
  }
  const tune = rest.endsWith('/tune');
  const path = (tune ? rest.slice(0, -'/tune'.length) : rest).replace(/\/+$/, '');
  if (path === '') throw notFound();
  const mount = state.mounts.get(path);
  if (tune) {
    if (mount === undefined) throw badRequest(`cannot fetch sysview for path "${path}/"`);
    if (ctx.method === 'GET') {
      const data = tuneData(mount);
      return json(200, envelope({ data, topLevel: data }));
    }
    applyTune(mount, ctx.body);
    return empty();
  }
  if (ctx.method === 'POST' || ctx.method === 'PUT') {
    if (mount !== undefined) throw badRequest(`path is already in use at ${path}/`);
    for (const existing of state.mounts.keys()) {
      if (existing.startsWith(`${path}/`) || path.startsWith(`${existing}/`)) throw badRequest(`path is already in use at ${existing}/`);
    }
    const type = parseOptionalString(ctx.body.type);
    if (type === undefined || type === '') throw badRequest('backend type must be specified as a string');
    const created = newMount(path, type, parseOptionalString(ctx.body.description) ?? '');
    const config = ctx.body.config;
    if (config !== null && typeof config === 'object' && !Array.isArray(config)) applyTune(created, config as Record<string, unknown>);
    state.mounts.set(path, created);
    return empty();
  }
  if (ctx.method === 'DELETE') {
    state.mounts.delete(path);
    return empty();
  }
  if (ctx.method === 'GET' && mount !== undefined) return json(200, envelope({ data: mountListing(mount) }));
  throw notFound();
}

export interface NewTokenOptions {
  readonly ttlSeconds?: number;
  readonly renewable?: boolean;
  readonly policies?: readonly string[];
  readonly maxTtlSeconds?: number;
  readonly id?: string;
}

export function createToken(state: SysState, now: Date, options: NewTokenOptions): TokenEntry {
  const ttl = options.ttlSeconds ?? 0;
  const entry: TokenEntry = {
    id: options.id ?? `hvs.${randomUUID().replace(/-/g, '')}`,
    accessor: randomUUID(),
    policies: options.policies ?? ['root'],
    renewable: options.renewable ?? ttl > 0,
    ttlSeconds: ttl,
    creationTtlSeconds: ttl,
    expiresAt: ttl > 0 ? new Date(now.getTime() + ttl * 1000) : undefined,
    issuedAt: now,
    maxTtlSeconds: options.maxTtlSeconds ?? 0,
  };
  state.tokens.set(entry.id, entry);
  return entry;
}

function remainingTtl(token: TokenEntry, now: Date): number {
  if (token.expiresAt === undefined) return 0;
  return Math.max(0, Math.floor((token.expiresAt.getTime() - now.getTime()) / 1000));
}

function authBlock(token: TokenEntry, now: Date): Record<string, unknown> {
  return {
    client_token: token.id,
    accessor: token.accessor,
    policies: [...token.policies],
    token_policies: [...token.policies],
    metadata: null,
    lease_duration: remainingTtl(token, now),
    renewable: token.renewable,
    entity_id: '',
    token_type: 'service',
    orphan: false,
  };
}

export function handleToken(state: SysState, ctx: RouteContext, rest: string): RouteResult {
  const token = ctx.token;
  if (token === undefined) throw new VaultApiError(403, ['permission denied']);
  if (rest === 'lookup-self' && ctx.method === 'GET') {
    return json(200, envelope({
      data: {
        accessor: token.accessor,
        creation_time: Math.floor(token.issuedAt.getTime() / 1000),
        creation_ttl: token.creationTtlSeconds,
        display_name: 'token',
        entity_id: '',
        expire_time: token.expiresAt?.toISOString() ?? null,
        explicit_max_ttl: token.maxTtlSeconds,
        id: token.id,
        issue_time: token.issuedAt.toISOString(),
        meta: null,
        num_uses: 0,
        orphan: true,
        path: 'auth/token/create',
        policies: [...token.policies],
        renewable: token.renewable,
        ttl: remainingTtl(token, ctx.now),
        type: 'service',
      },
    }));
  }
  if (rest === 'renew-self' && (ctx.method === 'POST' || ctx.method === 'PUT')) {
    if (!token.renewable || token.expiresAt === undefined) throw badRequest('lease is not renewable');
    let increment = parseTtlSeconds(ctx.body.increment, 'increment') ?? token.creationTtlSeconds;
    if (token.maxTtlSeconds > 0) {
      const hardEnd = token.issuedAt.getTime() + token.maxTtlSeconds * 1000;
      increment = Math.min(increment, Math.floor((hardEnd - ctx.now.getTime()) / 1000));
    }
    token.ttlSeconds = increment;
    token.expiresAt = new Date(ctx.now.getTime() + increment * 1000);
    return json(200, envelope({ auth: authBlock(token, ctx.now) }));
  }
  if (rest === 'create' && (ctx.method === 'POST' || ctx.method === 'PUT')) {
    const asked = parseList(ctx.body.policies);
    // Like Vault: a token gets `default` unless asked not to; a root token gets nothing else.
    const policies = asked.includes('root')
      ? ['root']
      : [...new Set([...(parseBool(ctx.body.no_default_policy, false) ? [] : ['default']), ...asked])].sort();
    const created = createToken(state, ctx.now, {
      ttlSeconds: parseTtlSeconds(ctx.body.ttl, 'ttl') ?? 0,
      renewable: parseBool(ctx.body.renewable, true),
      policies,
      maxTtlSeconds: parseTtlSeconds(ctx.body.explicit_max_ttl, 'explicit_max_ttl') ?? 0,
    });
    return json(200, envelope({ auth: authBlock(created, ctx.now) }));
  }
  if (rest === 'revoke' && (ctx.method === 'POST' || ctx.method === 'PUT')) {
    // An unknown token is not an error: it is revoked either way.
    const id = parseOptionalString(ctx.body.token);
    if (id === undefined || id === '') throw badRequest('missing token');
    state.tokens.delete(id);
    return empty();
  }
  if (rest === 'revoke-accessor' && (ctx.method === 'POST' || ctx.method === 'PUT')) {
    const accessor = parseOptionalString(ctx.body.accessor);
    const entry = [...state.tokens.values()].find((t) => t.accessor === accessor);
    if (entry === undefined) return json(200, envelope({ warnings: ['No token found with this accessor'] }));
    state.tokens.delete(entry.id);
    return empty();
  }
  if (rest === 'accessors' && ctx.method === 'LIST') {
    return json(200, envelope({ data: { keys: [...state.tokens.values()].map((t) => t.accessor) } }));
  }
  if (rest === 'revoke-self' && (ctx.method === 'POST' || ctx.method === 'PUT')) {
    state.tokens.delete(token.id);
    return empty();
  }
  throw notFound();
}

/** sys/capabilities-self: what the token's policies allow on each path (acl.ts). */
export function handleCapabilitiesSelf(state: SysState, ctx: RouteContext): RouteResult {
  const paths = parseList(ctx.body.paths ?? ctx.body.path);
  if (paths.length === 0) throw badRequest('"paths" must be provided');
  const caps: Record<string, unknown> = {};
  for (const path of paths) caps[path] = capabilitiesOn(state.policies, ctx.token?.policies ?? [], path);
  // Vault adds the combined `capabilities` key when asked about one path.
  if (paths.length === 1) caps.capabilities = caps[paths[0] ?? ''];
  return json(200, { ...envelope({ data: caps }), ...caps });
}

/** sys/policies/acl[/<name>]: write, read, delete and list ACL policies. */
export function handlePolicies(state: SysState, ctx: RouteContext, name: string): RouteResult {
  if (name === '') {
    if (ctx.method !== 'LIST') throw new VaultApiError(405, ['unsupported operation']);
    return json(200, envelope({ data: { keys: [...new Set(['default', ...state.policies.keys(), 'root'])].sort() } }));
  }
  if (ctx.method === 'POST' || ctx.method === 'PUT') {
    if (name === 'root') throw badRequest('cannot update "root" policy');
    const text = parseOptionalString(ctx.body.policy);
    if (text === undefined) throw badRequest("'policy' parameter not supplied or empty");
    parsePolicy(text);
    state.policies.set(name, text);
    return empty();
  }
  if (ctx.method === 'GET') {
    const text = state.policies.get(name);
    if (text === undefined) throw notFound();
    return json(200, envelope({ data: { name, policy: text } }));
  }
  if (ctx.method === 'DELETE') {
    if (name === 'root' || name === 'default') throw badRequest(`cannot delete "${name}" policy`);
    state.policies.delete(name);
    return empty();
  }
  throw new VaultApiError(405, ['unsupported operation']);
}
