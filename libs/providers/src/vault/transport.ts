// The one place that speaks HTTP to Vault: node:http(s) with a keep-alive agent of bounded size,
// so every issue reuses a warm connection instead of paying a TCP (and TLS) handshake, and a burst
// cannot open more sockets than Vault is willing to serve. Profiling the ca-service under load
// showed the generic client it replaced (node-vault over axios and follow-redirects) costing more
// CPU per certificate than Vault's own signing. Bodies are handed up unvalidated: vault-client.ts
// validates every answer with zod, and tests can swap in a fake transport.
import http from 'node:http';
import https from 'node:https';

export type VaultMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'LIST';

export interface VaultTransportRequest {
  readonly method: VaultMethod;
  /** Below /v1, without a leading slash, e.g. `pki/issue/fsm`; may carry a query (`?list=true`). */
  readonly path: string;
  readonly body?: Record<string, unknown>;
  /** Omitted for unauthenticated calls (sys/health, pki/ca/pem). */
  readonly token?: string;
}

/** A response Vault sent: `ok` for 2xx (Vault answers writes with 200 or 204). */
export type VaultTransportResponse =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly status: number; readonly body: unknown };

/** No HTTP answer at all: refused, reset, DNS, TLS, timeout. */
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
  /** Close idle connections (the provider is closing). */
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
  /** Connections kept to Vault at most (in use + idle). Default 32. */
  readonly maxSockets?: number;
}

/** Vault standbys redirect to the active node; a few hops at most. */
const MAX_REDIRECTS = 3;

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'UNKNOWN';
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return '';
  if (contentType?.includes('json') === true || text.startsWith('{')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

export function createVaultTransport(options: VaultTransportOptions): VaultTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_VAULT_REQUEST_TIMEOUT_MS;
  const base = new URL(options.address);
  const secure = base.protocol === 'https:';
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32, maxFreeSockets: options.maxSockets ?? 32, scheduling: 'lifo' as const };
  const agent = secure ? new https.Agent({ ...agentOptions, ...(options.caPem === undefined ? {} : { ca: options.caPem }) }) : new http.Agent(agentOptions);
  const requester = secure ? https.request : http.request;

  const once = (url: URL, request: VaultTransportRequest, payload: string | undefined): Promise<{ status: number; location: string | undefined; body: unknown }> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { accept: 'application/json' };
      if (request.token !== undefined) headers['X-Vault-Token'] = request.token;
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      const req = requester(url, { method: request.method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({ status, location: res.headers.location, body: parseBody(Buffer.concat(chunks).toString('utf8'), res.headers['content-type']) });
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    });

  return {
    address: options.address,
    timeoutMs,
    async send(request) {
      const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
      let url = new URL(`/v1/${request.path}`, base);
      try {
        for (let hop = 0; ; hop++) {
          const answer = await once(url, request, payload);
          if ((answer.status === 307 || answer.status === 308) && answer.location !== undefined && hop < MAX_REDIRECTS) {
            const next = new URL(answer.location, url);
            // The token goes along: follow only within the same scheme (never from https down to http).
            if (next.protocol === base.protocol) {
              url = next;
              continue;
            }
          }
          return answer.status >= 200 && answer.status < 300 ? { ok: true, body: answer.body } : { ok: false, status: answer.status, body: answer.body };
        }
      } catch (error) {
        const code = errorCode(error);
        const reason = error instanceof Error ? error.message : String(error);
        throw new VaultNetworkError(code, `${code}: ${reason}`, { cause: error });
      }
    },
    close() {
      agent.destroy();
    },
  };
}
