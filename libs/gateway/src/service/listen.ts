// Binds the gateway's request listener (GatewayApp.handler, or any express app): plain HTTP (local dev default, loopback) or HTTPS with the gateway's
// own certificate. close() stops accepting and lets in-flight requests finish (end SSE streams
// first with GatewayApp.closeStreams()); connections still open after drainMs are cut.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly certificateChainPem: string; readonly privateKeyPem: string };
  /** How long close() waits for in-flight requests before cutting connections; default 5 s. */
  readonly drainMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function listen(app: http.RequestListener, options: ListenOptions): Promise<RunningServer> {
  const server = options.tls === undefined ? http.createServer(app) : https.createServer({ cert: options.tls.certificateChainPem, key: options.tls.privateKeyPem }, app);
  // Keep-alive longer than common client/proxy idle timeouts so pooled connections are reused.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${options.tls === undefined ? 'http' : 'https'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  return {
    url,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Keep-alive connections that finish a request during the drain become idle: sweep them.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      const timer = setTimeout(() => server.closeAllConnections(), options.drainMs ?? 5_000);
      try {
        await closed;
      } finally {
        clearInterval(sweep);
        clearTimeout(timer);
      }
    },
  };
}
