// The one place that speaks HTTP to Vault. node-vault 0.12 (axios underneath) does the wire work:
// it is the client the issue names, it already handles the X-Vault-Token/namespace headers, a CA
// for https and timeouts. We use only its generic `request()` and keep its loosely-typed results
// behind this interface, so every response is validated by zod in vault-client.ts and tests can
// swap in a fake transport.
import nodeVault from 'node-vault';

export type VaultMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'LIST';

export interface VaultTransportRequest {
  readonly method: VaultMethod;
  /** Below /v1, without a leading slash, e.g. `pki/issue/fsm`. */
  readonly path: string;
  readonly body?: Record<string, unknown>;
  /** Omitted for unauthenticated calls (sys/health, pki/ca/pem). */
  readonly token?: string;
}

/** A response Vault sent. node-vault reports success (200 and 204) without its status, hence `ok`. */
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
  send(request: VaultTransportRequest): Promise<VaultTransportResponse>;
}

export interface NodeVaultTransportOptions {
  /** http(s)://host:port */
  readonly address: string;
  /** PEM of the CA that signed Vault's https certificate (vault.caFile). */
  readonly caPem?: string;
  /** Per-request timeout; a hung Vault counts as a network error. */
  readonly timeoutMs?: number;
}

function hasStatusResponse(error: unknown): error is { response: { statusCode: number; body: unknown } } {
  if (typeof error !== 'object' || error === null || !('response' in error)) return false;
  const response: unknown = error.response;
  return typeof response === 'object' && response !== null && 'statusCode' in response && typeof response.statusCode === 'number';
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'UNKNOWN';
}

export function createNodeVaultTransport(options: NodeVaultTransportOptions): VaultTransport {
  const timeout = options.timeoutMs ?? 10_000;
  const client = nodeVault({
    endpoint: options.address,
    apiVersion: 'v1',
    // node-vault falls back to VAULT_TOKEN from the environment; we always pass the token per request.
    token: '',
    ...(options.caPem === undefined ? {} : { requestOptions: { ca: options.caPem } }),
  });
  return {
    address: options.address,
    async send(request) {
      const headers: Record<string, string> = {};
      if (request.token !== undefined) headers['X-Vault-Token'] = request.token;
      try {
        const body: unknown = await client.request({
          path: `/${request.path}`,
          method: request.method,
          headers,
          timeout,
          ...(request.body === undefined ? {} : { json: request.body }),
        });
        return { ok: true, body };
      } catch (error) {
        if (hasStatusResponse(error)) return { ok: false, status: error.response.statusCode, body: error.response.body };
        const code = errorCode(error);
        const reason = error instanceof Error ? error.message : String(error);
        throw new VaultNetworkError(code, `${code}: ${reason}`, { cause: error });
      }
    },
  };
}
