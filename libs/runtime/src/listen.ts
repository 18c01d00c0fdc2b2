// Binding an HTTP(S) server and cutting it off: one definition for every listener of the
// project (the health servers of ca-service, rotation-worker and the agent, and the gateway).
import type { Server } from 'node:http';

export type UrlScheme = 'http' | 'https';

export interface BoundServer {
  /** How a client on this machine reaches the server (see localUrl). */
  readonly url: string;
  /** The bound port: the one asked for, or the free one picked for port 0. */
  readonly port: number;
}

/**
 * The URL a client on this machine uses for a server bound to host:port: a wildcard bind
 * (`0.0.0.0`, `::`) is reached on 127.0.0.1, an IPv6 address is written in brackets.
 */
export function localUrl(scheme: UrlScheme, host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `${scheme}://127.0.0.1:${port}`;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Listens on host:port (0 = any free port) and resolves once bound; a bind error (EADDRINUSE,
 * EACCES, an unknown address) rejects instead of being emitted on the server.
 */
export async function listenOn(server: Server, host: string, port: number, scheme: UrlScheme = 'http'): Promise<BoundServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`listenOn: ${host}:${port} is not a TCP address`);
  return { url: localUrl(scheme, host, address.port), port: address.port };
}

/**
 * Stops accepting and cuts every open connection at once, resolving when the server is closed:
 * for listeners whose clients (probes, scrapers) just retry, so an idle keep-alive socket must
 * not hold up a shutdown.
 */
export function closeNow(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
