// The one place that speaks HTTP to Vault. node-vault 0.12 is the client: the owner named it, and
// it already speaks Vault's conventions (X-Vault-Token, /v1 paths, error bodies). We call only its
// generic `request()`, never the generated command methods, whose mustache path templates and tv4
// schema checks cost CPU on every certificate and whose loosely typed answers we would validate
// with zod anyway (vault-client.ts does, for every answer; tests swap in a fake transport).
//
// What we add around it, and why:
// - Its HTTP layer (node-http-request.ts, through node-vault's documented `request-promise`
//   option): axios cost more CPU per certificate than OpenBao spends issuing it.
// - Our own keep-alive agent of bounded size. A burst reuses warm connections and never opens
//   more than Vault is willing to serve; owning the agent also lets close() drop the pool. The CA
//   of vault.caFile goes into it; VAULT_SKIP_VERIFY in the environment does not.
// - An AbortSignal: a cancelled call stops waiting at once and its request is torn down.
import http from 'node:http';
import https from 'node:https';
import nodeVault from 'node-vault';
import { onAbort } from './abort-fanout.js';
import { nodeVaultRequester } from './node-http-request.js';

export type VaultMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'LIST';

export interface VaultTransportRequest {
  readonly method: VaultMethod;
  /** Below /v1, without a leading slash, e.g. `pki/issue/fsm`; may carry a query (`?list=true`). */
  readonly path: string;
  readonly body?: Record<string, unknown>;
  /** Omitted for unauthenticated calls (sys/health, pki/ca/pem). */
  readonly token?: string;
  /** Stop waiting for the answer (shutdown, a cancelled job): rejects with VaultNetworkError ABORTED. */
  readonly signal?: AbortSignal;
}

/**
 * A response Vault sent: `ok` for 200 and 204. node-vault resolves those with the body alone, so
 * no status is known on success (and it resolves every sys/health answer, sealed or standby too,
 * which the health check reads from the body).
 */
export type VaultTransportResponse =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly status: number; readonly body: unknown };

/** No HTTP answer at all: refused, reset, DNS, TLS, timeout, or the caller gave up (ABORTED). */
export class VaultNetworkError extends Error {
  override readonly name = 'VaultNetworkError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface VaultTransport {
  readonly address: string;
  /** The longest one request may take before it counts as a network error; default DEFAULT_VAULT_REQUEST_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  send(request: VaultTransportRequest): Promise<VaultTransportResponse>;
  /** Close pooled connections (the provider is closing). */
  close?(): void;
}

/** Per-request timeout of the transport unless one is given. */
export const DEFAULT_VAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface VaultTransportOptions {
  /** http(s)://host:port */
  readonly address: string;
  /** PEM of the CA that signed Vault's https certificate (vault.caFile). */
  readonly caPem?: string;
  /** Per-request timeout; a hung Vault counts as a network error. Default 10 s. */
  readonly timeoutMs?: number;
  /** Connections kept to Vault at most (in use + idle); calls beyond wait for one. Default 32. */
  readonly maxSockets?: number;
}

/** node-vault's ApiResponseError: Vault answered with a status other than 200/204. */
function statusResponse(error: unknown): { statusCode: number; body: unknown } | undefined {
  if (typeof error !== 'object' || error === null || !('response' in error)) return undefined;
  const response: unknown = error.response;
  if (typeof response !== 'object' || response === null || !('statusCode' in response) || typeof response.statusCode !== 'number') return undefined;
  return { statusCode: response.statusCode, body: 'body' in response ? response.body : undefined };
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'UNKNOWN';
}

function toNetworkError(error: unknown): VaultNetworkError {
  const code = errorCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  return new VaultNetworkError(code, `${code}: ${reason}`, { cause: error });
}

function aborted(signal: AbortSignal): VaultNetworkError {
  return new VaultNetworkError('ABORTED', 'ABORTED: the caller stopped waiting for Vault', { cause: signal.reason });
}

/** The call, or an ABORTED rejection as soon as the signal fires (whatever the request is doing). */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return call;
  if (signal.aborted) {
    call.catch(() => undefined);
    return Promise.reject(aborted(signal));
  }
  return new Promise<T>((resolve, reject) => {
    // Through the fan-out: every item of a job waits on the same signal at once.
    const unsubscribe = onAbort(signal, () => reject(aborted(signal)));
    call.then(
      (value) => {
        unsubscribe();
        resolve(value);
      },
      (error: unknown) => {
        unsubscribe();
        reject(error);
      },
    );
  });
}

export function createVaultTransport(options: VaultTransportOptions): VaultTransport {
  const timeout = options.timeoutMs ?? DEFAULT_VAULT_REQUEST_TIMEOUT_MS;
  const secure = new URL(options.address).protocol === 'https:';
  const maxSockets = options.maxSockets ?? 32;
  // lifo: the most recently used socket is the one least likely to have been closed by Vault.
  const agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
  const agent = secure ? new https.Agent({ ...agentOptions, ...(options.caPem === undefined ? {} : { ca: options.caPem }) }) : new http.Agent(agentOptions);
  // The agent speaks only the address' scheme: a standby's redirect from https to http is refused.
  const client = nodeVault({ endpoint: options.address, apiVersion: 'v1', 'request-promise': nodeVaultRequester(agent) });
  // node-vault falls back to VAULT_TOKEN, VAULT_PREFIX and VAULT_NAMESPACE from the environment;
  // the configuration is our one source: the token goes per call, only on authenticated calls.
  Object.assign(client, { token: '', pathPrefix: '', namespace: undefined });

  return {
    address: options.address,
    timeoutMs: timeout,
    async send(request) {
      const call = client.request({
        path: `/${request.path}`,
        method: request.method,
        headers: request.token === undefined ? {} : { 'X-Vault-Token': request.token },
        timeout,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
        ...(request.body === undefined ? {} : { json: request.body }),
      });
      try {
        const body: unknown = await untilAborted(call, request.signal);
        return { ok: true, body };
      } catch (error) {
        if (error instanceof VaultNetworkError) throw error;
        const answered = statusResponse(error);
        if (answered !== undefined) return { ok: false, status: answered.statusCode, body: answered.body };
        throw toNetworkError(error);
      }
    },
    close() {
      agent.destroy();
    },
  };
}
