// The agent's view of the gateway: a GatewayClient made for each request with the token as it
// is now (a projected token file changes under us), and network failures turned into one
// retryable GATEWAY_UNREACHABLE naming the URL. HTTP refusals stay GatewayRequestErrors with
// the gateway's problem code.
import { fetchNetworkFailure, GatewayClient, GatewayRequestError } from '@fsm-certs/client';
import { AgentError } from './errors.js';
import { readToken, type TokenSource } from './token.js';

export interface GatewayAccess {
  readonly baseUrl: string;
  /** Runs one request with a client holding the current token. */
  call<T>(what: string, request: (client: GatewayClient) => Promise<T>): Promise<T>;
  /** Headers for a request the agent makes itself (the event stream). */
  authHeaders(): Promise<Record<string, string>>;
}

export function gatewayAccess(options: { baseUrl: string; token: TokenSource; timeoutMs: number }): GatewayAccess {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  return {
    baseUrl,
    async call(what, request) {
      const token = await readToken(options.token);
      const client = new GatewayClient({ baseUrl, token, timeoutMs: options.timeoutMs });
      try {
        return await request(client);
      } catch (error) {
        throw unreachable(error, baseUrl, what) ?? error;
      }
    },
    async authHeaders() {
      return { authorization: `Bearer ${await readToken(options.token)}` };
    },
  };
}

/** A GATEWAY_UNREACHABLE for a failure without an HTTP answer; undefined for anything else. */
export function unreachable(error: unknown, baseUrl: string, what: string): AgentError | undefined {
  if (error instanceof GatewayRequestError || error instanceof AgentError) return undefined;
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new AgentError('GATEWAY_UNREACHABLE', `${what}: no answer from the gateway at ${baseUrl} in time`, { cause: error });
  }
  // fetch's own network failures only: any other TypeError is a bug and must surface as one.
  const failure = fetchNetworkFailure(error);
  if (failure === undefined) return undefined;
  return new AgentError('GATEWAY_UNREACHABLE', `${what}: cannot reach the gateway at ${baseUrl} (${failure}); keeping the current files and retrying`, { cause: error });
}
