// VaultClient: our small, typed view of the Vault API fsm-certs uses (health, token, mounts,
// PKI). It owns retries (network/5xx/sealed: capped exponential backoff with jitter; 4xx never),
// the one token re-read after a 403, response validation and one structured log line per call.
// The life cycle of an issue request lives in VaultProvider, not here.
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import { ProviderError } from '../errors.js';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, realSleep } from './backoff.js';
import type { RetryPolicy, Sleep } from './backoff.js';
import type { VaultLogger } from './logger.js';
import {
  capabilitiesSchema, certCaSchema, healthSchema, issuedSchema, issuerListSchema, issuerSchema, mountsSchema, roleSchema, rootSchema,
  tokenAuthSchema, tokenLookupSchema, tuneSchema, urlsSchema,
} from './schemas.js';
import type { TokenLookup, VaultHealth, VaultIssued, VaultIssuer, VaultRole } from './schemas.js';
import type { TokenSource } from './token-source.js';
import { DEFAULT_VAULT_REQUEST_TIMEOUT_MS, VaultNetworkError } from './transport.js';
import type { VaultMethod, VaultTransport, VaultTransportResponse } from './transport.js';
import { VaultRequestError, fromNetworkError, fromStatus } from './vault-errors.js';

export interface VaultClientOptions {
  readonly transport: VaultTransport;
  readonly tokenSource: TokenSource;
  readonly logger: VaultLogger;
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: Sleep;
  readonly random?: () => number;
}

interface CallOptions<T> {
  readonly method: VaultMethod;
  readonly path: string;
  readonly body?: Record<string, unknown>;
  /** false for unauthenticated reads (pki/ca/pem). */
  readonly auth?: boolean;
  readonly schema?: z.ZodType<T>;
  /** Statuses that mean "absent" and resolve to undefined instead of throwing (e.g. 404). */
  readonly missOn?: readonly number[];
  readonly signal?: AbortSignal;
  /** Override the retry policy for this call (e.g. 1 attempt while polling health). */
  readonly maxAttempts?: number;
  /** Failures are expected (health polling): log them at info, not warn. */
  readonly quiet?: boolean;
}

export interface IssueParams {
  readonly commonName: string;
  readonly altNames: readonly string[];
  readonly uriSans: readonly string[];
  readonly ipSans: readonly string[];
  /** Exact validity in whole seconds; sent as "<n>s". */
  readonly ttlSeconds: number;
  /** Server-key mode: the key asked for. A role with a fixed key_type ignores it (and says so). */
  readonly key?: { readonly type: 'ec' | 'rsa'; readonly bits: number };
}

export interface RoleParams {
  readonly allow_any_name: boolean;
  readonly allow_subdomains: boolean;
  readonly allow_bare_domains: boolean;
  readonly allow_localhost: boolean;
  readonly allowed_domains: readonly string[];
  readonly allowed_uri_sans: readonly string[];
  readonly enforce_hostnames: boolean;
  readonly max_ttl: string;
  readonly key_type: string;
  readonly key_bits: number;
  readonly key_usage: readonly string[];
  readonly use_csr_common_name: boolean;
  readonly use_csr_sans: boolean;
}

export class VaultClient {
  private readonly policy: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private token: string | undefined;

  constructor(private readonly options: VaultClientOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  get address(): string {
    return this.options.transport.address;
  }

  /** Let go of pooled connections. */
  close(): void {
    this.options.transport.close?.();
  }

  /** The longest one HTTP request to Vault may take; a request in flight cannot be cut short. */
  get requestTimeoutMs(): number {
    return this.options.transport.timeoutMs ?? DEFAULT_VAULT_REQUEST_TIMEOUT_MS;
  }

  /** sys/health, one try: sealed/standby/uninitialised Vaults answer non-200 with the same body. */
  async health(): Promise<VaultHealth> {
    const result = await this.request({ method: 'GET', path: 'sys/health', auth: false, missOn: [429, 472, 473, 501, 503], maxAttempts: 1, rawMiss: true, quiet: true });
    const parsed = healthSchema.safeParse(result?.body);
    if (!parsed.success) throw new ProviderError('BACKEND_UNAVAILABLE', `Vault at ${this.address} answered sys/health with an unexpected body: is this a Vault server?`);
    return parsed.data;
  }

  lookupSelf(): Promise<TokenLookup> {
    return this.call({ method: 'GET', path: 'auth/token/lookup-self', schema: tokenLookupSchema }).then((r) => r.data);
  }

  async renewSelf(increment: string | undefined): Promise<{ leaseDurationSeconds: number; renewable: boolean }> {
    const r = await this.call({ method: 'POST', path: 'auth/token/renew-self', body: increment === undefined ? {} : { increment }, schema: tokenAuthSchema });
    return { leaseDurationSeconds: r.auth.lease_duration, renewable: r.auth.renewable };
  }

  /** Capabilities of our token on each path, or undefined when Vault will not say. */
  async capabilities(paths: readonly string[]): Promise<Record<string, readonly string[]> | undefined> {
    const r = await this.callOrMiss({ method: 'POST', path: 'sys/capabilities-self', body: { paths: [...paths] }, schema: capabilitiesSchema, missOn: [400, 403, 404, 405], maxAttempts: 1 });
    if (r === undefined) return undefined;
    const out: Record<string, readonly string[]> = {};
    for (const path of paths) {
      const caps = r[path];
      if (Array.isArray(caps)) out[path] = caps.map(String);
    }
    return out;
  }

  /** Mount paths (without trailing slash) → type. */
  async mounts(): Promise<Map<string, string>> {
    const r = await this.call({ method: 'GET', path: 'sys/mounts', schema: mountsSchema });
    const source = typeof r.data === 'object' && r.data !== null ? (r.data as Record<string, unknown>) : r;
    const out = new Map<string, string>();
    for (const [key, value] of Object.entries(source)) {
      if (!key.endsWith('/') || typeof value !== 'object' || value === null || !('type' in value)) continue;
      out.set(key.slice(0, -1), String(value.type));
    }
    return out;
  }

  async enableMount(path: string, type: string): Promise<void> {
    await this.request({ method: 'POST', path: `sys/mounts/${path}`, body: { type } });
  }

  async readTune(path: string): Promise<{ maxLeaseTtlSeconds: number; defaultLeaseTtlSeconds: number }> {
    const r = await this.call({ method: 'GET', path: `sys/mounts/${path}/tune`, schema: tuneSchema });
    return { maxLeaseTtlSeconds: r.max_lease_ttl, defaultLeaseTtlSeconds: r.default_lease_ttl };
  }

  async tune(path: string, maxLeaseTtl: string): Promise<void> {
    await this.request({ method: 'POST', path: `sys/mounts/${path}/tune`, body: { max_lease_ttl: maxLeaseTtl } });
  }

  async readUrls(mount: string): Promise<{ issuingCertificates: string[]; crlDistributionPoints: string[] }> {
    const r = await this.callOrMiss({ method: 'GET', path: `${mount}/config/urls`, schema: urlsSchema, missOn: [404] });
    return { issuingCertificates: r?.data.issuing_certificates ?? [], crlDistributionPoints: r?.data.crl_distribution_points ?? [] };
  }

  async writeUrls(mount: string, urls: { issuingCertificates: readonly string[]; crlDistributionPoints: readonly string[] }): Promise<void> {
    await this.request({ method: 'POST', path: `${mount}/config/urls`, body: { issuing_certificates: [...urls.issuingCertificates], crl_distribution_points: [...urls.crlDistributionPoints] } });
  }

  async readRole(mount: string, role: string): Promise<VaultRole | undefined> {
    const r = await this.callOrMiss({ method: 'GET', path: `${mount}/roles/${role}`, schema: roleSchema, missOn: [404] });
    return r?.data;
  }

  /** The role as far as our token may read it: undefined when absent or not readable (403). */
  async readRoleIfAllowed(mount: string, role: string, signal?: AbortSignal): Promise<VaultRole | undefined> {
    const r = await this.callOrMiss({ method: 'GET', path: `${mount}/roles/${role}`, schema: roleSchema, missOn: [403, 404], maxAttempts: 1, ...(signal === undefined ? {} : { signal }) });
    return r?.data;
  }

  async writeRole(mount: string, role: string, params: RoleParams): Promise<void> {
    await this.request({ method: 'POST', path: `${mount}/roles/${role}`, body: { ...params, allowed_domains: [...params.allowed_domains], allowed_uri_sans: [...params.allowed_uri_sans], key_usage: [...params.key_usage] } });
  }

  async generateRoot(mount: string, params: { commonName: string; ttl: string; keyType: string; keyBits: number }): Promise<{ certificatePem: string; warnings: string[] }> {
    const r = await this.call({
      method: 'POST',
      path: `${mount}/root/generate/internal`,
      body: { common_name: params.commonName, ttl: params.ttl, key_type: params.keyType, key_bits: params.keyBits },
      schema: rootSchema,
    });
    return { certificatePem: r.data.certificate, warnings: r.warnings };
  }

  /** The mount's CA certificate (PEM), undefined when the mount has no CA yet. */
  async readCaPem(mount: string, signal?: AbortSignal): Promise<string | undefined> {
    const body = (await this.request({ method: 'GET', path: `${mount}/ca/pem`, auth: false, missOn: [404], ...(signal === undefined ? {} : { signal }) }))?.body;
    if (typeof body === 'string' && body.includes('-----BEGIN CERTIFICATE-----')) return `${body.trim()}\n`;
    // Some versions answer cert/ca in JSON only; fall back to it when ca/pem gave nothing usable.
    if (body === undefined || body === '' || body === null) return undefined;
    const r = await this.callOrMiss({ method: 'GET', path: `${mount}/cert/ca`, auth: false, schema: certCaSchema, missOn: [404], ...(signal === undefined ? {} : { signal }) });
    return r !== undefined && r.data.certificate.includes('BEGIN CERTIFICATE') ? `${r.data.certificate.trim()}\n` : undefined;
  }

  /** The mount's issuer ids; undefined on a Vault without the multi-issuer API (before 1.11). */
  async listIssuers(mount: string): Promise<string[] | undefined> {
    // GET ?list=true is Vault's spelling of LIST for clients that only speak standard methods.
    const r = await this.callOrMiss({ method: 'GET', path: `${mount}/issuers?list=true`, auth: false, schema: issuerListSchema, missOn: [404, 405] });
    return r?.data.keys;
  }

  /** One issuer's certificate and chain (unauthenticated, like ca/pem); undefined when it is gone. */
  async readIssuer(mount: string, issuerId: string): Promise<VaultIssuer | undefined> {
    const r = await this.callOrMiss({ method: 'GET', path: `${mount}/issuer/${encodeURIComponent(issuerId)}/json`, auth: false, schema: issuerSchema, missOn: [404] });
    return r?.data;
  }

  issue(mount: string, role: string, params: IssueParams, signal?: AbortSignal): Promise<VaultIssued> {
    return this.call({ method: 'POST', path: `${mount}/issue/${role}`, body: issueBody(params), schema: issuedSchema, ...(signal === undefined ? {} : { signal }) });
  }

  sign(mount: string, role: string, csrPem: string, params: IssueParams, signal?: AbortSignal): Promise<VaultIssued> {
    return this.call({ method: 'POST', path: `${mount}/sign/${role}`, body: { ...issueBody(params), csr: csrPem }, schema: issuedSchema, ...(signal === undefined ? {} : { signal }) });
  }

  private async currentToken(): Promise<string> {
    if (this.token === undefined) this.token = await this.options.tokenSource.read();
    return this.token;
  }

  /** A call whose answer must be there (no missOn). */
  private async call<T>(options: CallOptions<T> & { schema: z.ZodType<T> }): Promise<T> {
    const result = await this.request(options);
    if (result === undefined) throw new ProviderError('ISSUANCE_FAILED', `Vault ${options.method} /v1/${options.path} answered with nothing to read.`);
    return this.parse(options.schema, result.body, options.method, options.path);
  }

  /** A call where the statuses in missOn mean "absent". */
  private async callOrMiss<T>(options: CallOptions<T> & { schema: z.ZodType<T> }): Promise<T | undefined> {
    const result = await this.request(options);
    return result === undefined ? undefined : this.parse(options.schema, result.body, options.method, options.path);
  }

  /**
   * One logical call: retries transient failures, re-reads the token once after a 403, logs
   * every attempt. Resolves to the body, or undefined for a missOn status (its body with rawMiss).
   */
  private async request(options: CallOptions<unknown> & { rawMiss?: boolean }): Promise<{ body: unknown } | undefined> {
    const { method, path } = options;
    const maxAttempts = options.maxAttempts ?? this.policy.maxAttempts;
    const useToken = options.auth !== false;
    let tokenReread = false;
    for (let attempt = 1; ; attempt++) {
      if (options.signal?.aborted === true) throw new ProviderError('ISSUANCE_TIMEOUT', `Vault ${method} /v1/${path} was cancelled by the caller.`, { cause: options.signal.reason });
      const token = useToken ? await this.currentToken() : undefined;
      const started = performance.now();
      const outcome = await this.sendOnce(method, path, options.body, token, options.signal);
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      if (outcome instanceof VaultNetworkError && outcome.code === 'ABORTED') {
        this.options.logger.info({ vault: { method, path, status: 0, durationMs, attempt } }, 'vault request cancelled');
        throw new ProviderError('ISSUANCE_TIMEOUT', `Vault ${method} /v1/${path} was cancelled by the caller.`, { cause: outcome });
      }
      let failure: VaultRequestError;
      const logFailure = options.quiet === true ? this.options.logger.info.bind(this.options.logger) : this.options.logger.warn.bind(this.options.logger);
      if (outcome instanceof VaultNetworkError) {
        failure = fromNetworkError(method, path, this.address, outcome);
        logFailure({ vault: { method, path, status: 0, durationMs, attempt }, code: failure.code, reason: outcome.code }, 'vault request failed');
      } else {
        const status = outcome.ok ? 200 : outcome.status;
        const log = { vault: { method, path, status, durationMs, attempt } };
        if (outcome.ok) {
          this.options.logger.info(log, 'vault request');
          return { body: outcome.body };
        }
        if (options.missOn?.includes(outcome.status) === true) {
          this.options.logger.info(log, 'vault request');
          return options.rawMiss === true ? { body: outcome.body } : undefined;
        }
        failure = fromStatus(method, path, outcome.status, outcome.body);
        logFailure({ ...log, code: failure.code, errors: failure.vault.errors }, 'vault request failed');
        if (outcome.status === 403 && useToken && !tokenReread && this.options.tokenSource.rereadable) {
          // Maybe the token was rotated: read the source once more and retry only if it changed.
          tokenReread = true;
          const fresh = await this.options.tokenSource.read();
          if (fresh !== token) {
            this.token = fresh;
            this.options.logger.info({ vault: { path }, source: this.options.tokenSource.description }, 'vault token re-read after 403; retrying');
            attempt--;
            continue;
          }
        }
      }
      if (!failure.retryable) throw failure;
      if (attempt >= maxAttempts) {
        failure.backendRetriesSpent = true;
        throw failure;
      }
      const delayMs = backoffDelayMs(attempt, this.policy, this.random);
      this.options.logger.info({ vault: { method, path }, attempt, delayMs }, 'vault request will be retried');
      try {
        await this.sleep(delayMs, options.signal);
      } catch (error) {
        // Cancelled between attempts: the same retryable failure as a cancel before one.
        const { signal } = options;
        if (signal === undefined || !isAborted(signal)) throw error;
        throw new ProviderError('ISSUANCE_TIMEOUT', `Vault ${method} /v1/${path} was cancelled by the caller.`, { cause: signal.reason });
      }
    }
  }

  private async sendOnce(
    method: VaultMethod,
    path: string,
    body: Record<string, unknown> | undefined,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<VaultTransportResponse | VaultNetworkError> {
    try {
      return await this.options.transport.send({ method, path, ...(body === undefined ? {} : { body }), ...(token === undefined ? {} : { token }), ...(signal === undefined ? {} : { signal }) });
    } catch (error) {
      if (error instanceof VaultNetworkError) return error;
      throw error;
    }
  }

  private parse<T>(schema: z.ZodType<T>, body: unknown, method: string, path: string): T {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    throw new ProviderError('ISSUANCE_FAILED', `Vault ${method} /v1/${path} answered with an unexpected body (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}). Is VAULT_ADDR a Vault server of a supported version?`);
  }
}

/** Read through a call: the compiler keeps `signal.aborted` narrowed from an earlier check. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function issueBody(params: IssueParams): Record<string, unknown> {
  const alt = params.altNames.filter((n) => n !== params.commonName);
  return {
    common_name: params.commonName,
    ...(alt.length > 0 ? { alt_names: alt.join(',') } : {}),
    ...(params.uriSans.length > 0 ? { uri_sans: params.uriSans.join(',') } : {}),
    ...(params.ipSans.length > 0 ? { ip_sans: params.ipSans.join(',') } : {}),
    ...(params.key === undefined ? {} : { key_type: params.key.type, key_bits: params.key.bits }),
    // Exact seconds: FSM/OSM truncated to whole hours ("30m" became "0h"); we never do.
    ttl: `${params.ttlSeconds}s`,
    format: 'pem',
  };
}
