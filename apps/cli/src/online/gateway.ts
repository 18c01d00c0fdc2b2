// One gateway call as the CLI sees it: a GatewayClient for the resolved connection, with fetch's
// bare "fetch failed" turned into an error that names the URL and what to try.
import { fetchNetworkFailure, GatewayClient } from '@fsm-certs/client';
import type { Connection } from '../connection.js';
import { GatewayUnreachableError } from '../errors.js';

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface Gateway {
  readonly connection: Connection;
  readonly client: GatewayClient;
  /** Runs one request; network failures become GatewayUnreachableError. */
  call<T>(request: (client: GatewayClient) => Promise<T>): Promise<T>;
}

export function openGateway(connection: Connection, options: { timeoutMs?: number } = {}): Gateway {
  const client = new GatewayClient({
    baseUrl: connection.server,
    ...(connection.token === undefined ? {} : { token: connection.token }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  return {
    connection,
    client,
    async call(request) {
      try {
        return await request(client);
      } catch (error) {
        throw asUnreachable(error, connection) ?? error;
      }
    },
  };
}

/** The GatewayUnreachableError for a network-level failure, or undefined for anything else. */
export function asUnreachable(error: unknown, connection: Connection): GatewayUnreachableError | undefined {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new GatewayUnreachableError('GATEWAY_TIMEOUT', `no answer from the gateway at ${connection.server} in time; is it overloaded or stuck?`, { cause: error });
  }
  const code = fetchNetworkFailure(error);
  if (code === undefined) return undefined;
  if (TLS_TRUST_CODES.has(code)) {
    const advice =
      connection.caFile === undefined
        ? 'pass --ca FILE with the mesh root (e.g. .data/ca.crt, or the trust bundle saved from GET /v1/ca)'
        : `${connection.caFile} does not hold the root that signed it`;
    return new GatewayUnreachableError('GATEWAY_TLS_UNTRUSTED', `the TLS certificate of ${connection.server} is not trusted (${code}); ${advice}`, { cause: error });
  }
  return new GatewayUnreachableError(
    'GATEWAY_UNREACHABLE',
    `cannot reach the gateway at ${connection.server} (${code}, from ${connection.source}); is it running (\`npm start\`) and is the URL right?`,
    { cause: error },
  );
}
