// gateway.*: the issuer-gateway's HTTP listener, its bearer tokens, rate limit and batching.
// Tokens are reduced to SHA-256 hashes here, at load, so no plain token outlives config parsing.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseDurationMs } from '@fsm-certs/core';
import { goDuration } from './go-duration.js';
import { callerPolicySchema } from './caller-policy.js';
import type { EnvBinding } from './env-binding.js';

export const GATEWAY_SCOPES = ['issue', 'read', 'admin'] as const;
export type GatewayScope = (typeof GATEWAY_SCOPES)[number];

function intBetween(what: string, min: number, max: number) {
  const error = `${what}: an integer ${min}-${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

const booleanish = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'true or false' })]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const NAME_PATTERN = /^(\*|(\*\*?\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*)$/;

function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const tokenEntrySchema = z
  .strictObject({
    /** Label for logs and metrics; never the token itself. */
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, { error: 'a label of letters, digits, ".", "_" and "-"' }),
    /** A plain token (hashed here), or `sha256:<64 hex>`. */
    token: z.string().min(1).optional(),
    /** The token's SHA-256 as 64 hex characters (`sha256:` prefix optional). */
    sha256: z.string().optional(),
    scopes: z.array(z.enum(GATEWAY_SCOPES, { error: 'issue, read or admin' })).min(1, { error: 'at least one of issue, read, admin' }),
    /**
     * The names whose certificates this token may issue, read, rotate and release: `*`,
     * `*.ns.cluster.local` (one label), `**.ns.cluster.local` (subtree) or an exact name. `[]`
     * means none. Omitted: `["*"]` for a read-only token (monitoring), `[]` otherwise.
     */
    names: z.array(z.string().regex(NAME_PATTERN, { error: 'a name pattern: *, *.bookstore.cluster.local, **.bookstore.cluster.local or an exact DNS name' })).optional(),
    /** Validity, key algorithms and modes, wildcards and rate for this token. */
    policy: callerPolicySchema.optional(),
  })
  .superRefine((entry, ctx) => {
    const given = (entry.token === undefined ? 0 : 1) + (entry.sha256 === undefined ? 0 : 1);
    if (given !== 1) ctx.addIssue({ code: 'custom', path: ['token'], message: 'give exactly one of token or sha256' });
    const hashed = entry.sha256 ?? (entry.token?.startsWith('sha256:') === true ? entry.token : undefined);
    if (hashed !== undefined && !SHA256_HEX.test(hashed.replace(/^sha256:/, ''))) {
      ctx.addIssue({ code: 'custom', path: [entry.sha256 === undefined ? 'token' : 'sha256'], message: 'sha256:<64 hex characters>' });
    }
    if (entry.token !== undefined && !entry.token.startsWith('sha256:') && entry.token.length < 16) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'a token of at least 16 characters (generate one with `openssl rand -base64 24`)' });
    }
  })
  .transform((entry) => {
    const hashed = entry.sha256 ?? (entry.token?.startsWith('sha256:') === true ? entry.token : undefined);
    const sha256 = hashed !== undefined ? hashed.replace(/^sha256:/, '').toLowerCase() : sha256Hex(entry.token ?? '');
    const names = entry.names ?? (entry.scopes.every((scope) => scope === 'read') ? ['*'] : []);
    return { name: entry.name, sha256, scopes: entry.scopes, names, ...(entry.policy === undefined ? {} : { policy: entry.policy }) };
  });

export type GatewayTokenGrant = z.output<typeof tokenEntrySchema>;

export const gatewaySchema = z
  .strictObject({
    host: z.string().min(1, { error: 'an interface address such as 127.0.0.1 or 0.0.0.0' }).default('127.0.0.1'),
    port: intBetween('TCP port (0 = any free port)', 0, 65535).default(8080),
    /** Serve HTTPS with a decade certificate for issuer-gateway.<namespace>.svc from the mesh CA. */
    tls: booleanish.default(false),
    tokens: z.array(tokenEntrySchema).default([]),
    /** Shortcut: one token with every scope and every name. */
    adminToken: z.string().min(16, { error: 'a token of at least 16 characters' }).optional(),
    rateLimitPerSec: z.coerce.number({ error: 'requests per second per token, > 0' }).positive({ error: 'requests per second per token, > 0' }).default(5000),
    bodyLimit: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, { error: 'a size such as 64kb or 1mb' })
      .default('64kb'),
    /**
     * How long a request waits for its certificate before 504. Unset: derived from the provider's
     * own bound (see issue-timeout.ts), 30s for Tresor and Vault.
     */
    issueTimeout: goDuration('a Go duration of at least 100ms, e.g. 30s', 100).optional(),
    batchWindowMs: intBetween('batch window in ms', 0, 1000).default(2),
    batchMax: intBetween('requests per batch', 1, 500).default(64),
    /** Unset: derived from the provider in schema.ts (DEFAULT_BATCH_PIPELINE_DEPTH). */
    batchPipelineDepth: intBetween('jobs the batcher keeps in flight', 1, 64).optional(),
    /** Failed authentications allowed per client address: a rate and a burst. */
    authFailures: z
      .strictObject({
        ratePerSec: z.coerce.number({ error: 'failures per second, > 0' }).positive({ error: 'failures per second, > 0' }).default(1),
        burst: intBetween('failures allowed at once', 1, 10_000).default(10),
      })
      .prefault({}),
    /** Server-Sent Event streams (/v1/events) a caller, and the gateway, may hold open. */
    sse: z
      .strictObject({
        maxStreamsPerCaller: intBetween('event streams per caller', 1, 100_000).default(20),
        maxStreams: intBetween('event streams per gateway', 1, 1_000_000).default(1000),
      })
      .prefault({}),
    /** Kubernetes ServiceAccount tokens, checked with the TokenReview API. */
    serviceAccountAuth: z
      .strictObject({
        enabled: booleanish.default(false),
        /** The audience the projected token must be minted for. */
        audience: z.string().min(1).max(253).default('fsm-certs'),
        /** How long a TokenReview answer is reused for the same token (at most its expiry). */
        cacheTtl: goDuration('a Go duration between 0s and 10m, e.g. 30s', 0, 10 * 60 * 1000).default('30s'),
        /** Extra names ServiceAccount callers may have beyond their own identity (patterns as for tokens). */
        names: z.array(z.string().regex(NAME_PATTERN, { error: 'a name pattern' })).default([]),
        /** Policy of every ServiceAccount caller; maxValidity defaults to 24h. */
        policy: callerPolicySchema.optional(),
      })
      .prefault({}),
    /** How long the audit trail keeps a decision (a Go duration; default 30 days). */
    auditRetention: goDuration('a Go duration of at least 1h, e.g. 720h', 3600 * 1000).default('720h'),
  })
  .prefault({})
  .transform((section) => {
    const { adminToken, ...rest } = section;
    const grants: GatewayTokenGrant[] = [...section.tokens];
    if (adminToken !== undefined) grants.push({ name: 'admin', sha256: sha256Hex(adminToken), scopes: ['admin', 'issue', 'read'], names: ['*'] });
    const { issueTimeout, serviceAccountAuth, auditRetention, ...others } = rest;
    // issueTimeoutMs is settled in schema.ts, where the provider's timeout is known.
    return {
      ...others,
      tokens: grants,
      serviceAccountAuth: { ...serviceAccountAuth, cacheTtlMs: parseDurationMs(serviceAccountAuth.cacheTtl) },
      auditRetention,
      auditRetentionMs: parseDurationMs(auditRetention),
      issueTimeout: issueTimeout === undefined ? undefined : { value: issueTimeout, ms: parseDurationMs(issueTimeout) },
    };
  });

/** The brief's name for the section schema. */
export const gatewaySection = gatewaySchema;
export type GatewayConfig = z.output<typeof gatewaySchema>;

/** GATEWAY_TOKENS holds a JSON array; invalid JSON is passed through so validation names the variable. */
function expandTokens(value: string): Array<{ path: readonly string[]; value: unknown }> {
  try {
    return [{ path: ['gateway', 'tokens'], value: JSON.parse(value) as unknown }];
  } catch {
    return [{ path: ['gateway', 'tokens'], value: 'not JSON: expected [{"name","token"|"sha256","scopes","names"}]' }];
  }
}

/** An env var holding JSON (a list, an object); invalid JSON is passed through so validation names the variable. */
function expandJson(path: readonly string[], expected: string): (value: string) => Array<{ path: readonly string[]; value: unknown }> {
  return (value) => {
    try {
      return [{ path, value: JSON.parse(value) as unknown }];
    } catch {
      return [{ path, value: `not JSON: expected ${expected}` }];
    }
  };
}

export const gatewayEnv: readonly EnvBinding[] = [
  { env: 'GATEWAY_HOST', path: ['gateway', 'host'] },
  { env: 'GATEWAY_PORT', path: ['gateway', 'port'] },
  { env: 'GATEWAY_TLS', path: ['gateway', 'tls'] },
  { env: 'GATEWAY_TOKENS', path: ['gateway', 'tokens'], secret: true, expand: expandTokens },
  { env: 'GATEWAY_ADMIN_TOKEN', path: ['gateway', 'adminToken'], secret: true },
  { env: 'GATEWAY_RATE_LIMIT_PER_SEC', path: ['gateway', 'rateLimitPerSec'] },
  { env: 'GATEWAY_BODY_LIMIT', path: ['gateway', 'bodyLimit'] },
  { env: 'GATEWAY_ISSUE_TIMEOUT', path: ['gateway', 'issueTimeout'] },
  { env: 'GATEWAY_BATCH_WINDOW_MS', path: ['gateway', 'batchWindowMs'] },
  { env: 'GATEWAY_BATCH_MAX', path: ['gateway', 'batchMax'] },
  { env: 'GATEWAY_BATCH_PIPELINE_DEPTH', path: ['gateway', 'batchPipelineDepth'] },
  { env: 'GATEWAY_AUTH_FAILURES_PER_SEC', path: ['gateway', 'authFailures', 'ratePerSec'] },
  { env: 'GATEWAY_AUTH_FAILURES_BURST', path: ['gateway', 'authFailures', 'burst'] },
  { env: 'GATEWAY_SSE_MAX_STREAMS_PER_CALLER', path: ['gateway', 'sse', 'maxStreamsPerCaller'] },
  { env: 'GATEWAY_SSE_MAX_STREAMS', path: ['gateway', 'sse', 'maxStreams'] },
  { env: 'GATEWAY_SA_AUTH_ENABLED', path: ['gateway', 'serviceAccountAuth', 'enabled'] },
  { env: 'GATEWAY_SA_AUTH_AUDIENCE', path: ['gateway', 'serviceAccountAuth', 'audience'] },
  { env: 'GATEWAY_SA_AUTH_CACHE_TTL', path: ['gateway', 'serviceAccountAuth', 'cacheTtl'] },
  { env: 'GATEWAY_SA_AUTH_NAMES', path: ['gateway', 'serviceAccountAuth', 'names'], expand: expandJson(['gateway', 'serviceAccountAuth', 'names'], 'a JSON list of name patterns') },
  { env: 'GATEWAY_SA_AUTH_POLICY', path: ['gateway', 'serviceAccountAuth', 'policy'], expand: expandJson(['gateway', 'serviceAccountAuth', 'policy'], 'a JSON policy object') },
  { env: 'GATEWAY_AUDIT_RETENTION', path: ['gateway', 'auditRetention'] },
];
