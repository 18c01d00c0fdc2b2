// Binds the gateway's request listener (GatewayApp.handler, or any express app): plain HTTP
// (local dev default, loopback) or HTTPS with the gateway's own certificate, which can be
// replaced while serving. close() stops accepting and lets in-flight requests finish (end SSE
// streams first with GatewayApp.closeStreams()); connections still open when `cancel` aborts
// (or, without one, after drainMs) are cut.
import http from 'node:http';
import https from 'node:https';
import { listenOn } from '@fsm-certs/runtime';

export interface TlsMaterial {
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsMaterial;
  /** Without a cancel signal: how long close() waits for in-flight requests before cutting connections; default 5 s. */
  readonly drainMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** HTTPS only: new handshakes use this certificate from now on; open connections keep theirs. */
  setCertificate(tls: TlsMaterial): void;
  close(cancel?: AbortSignal): Promise<void>;
}

export async function listen(app: http.RequestListener, options: ListenOptions): Promise<RunningServer> {
  const secure = options.tls === undefined ? undefined : https.createServer({ cert: options.tls.certificateChainPem, key: options.tls.privateKeyPem }, app);
  const server: http.Server = secure ?? http.createServer(app);
  // Keep-alive longer than common client/proxy idle timeouts so pooled connections are reused.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const { url, port } = await listenOn(server, options.host, options.port, secure === undefined ? 'http' : 'https');
  return {
    url,
    port,
    setCertificate(tls) {
      if (secure === undefined) throw new Error('setCertificate: this server serves plain HTTP');
      secure.setSecureContext({ cert: tls.certificateChainPem, key: tls.privateKeyPem });
    },
    async close(cancel) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Keep-alive connections that finish a request during the drain become idle: sweep them.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      const cut = (): void => server.closeAllConnections();
      const timer = cancel === undefined ? setTimeout(cut, options.drainMs ?? 5_000) : undefined;
      if (cancel?.aborted === true) cut();
      cancel?.addEventListener('abort', cut, { once: true });
      try {
        await closed;
      } finally {
        clearInterval(sweep);
        clearTimeout(timer);
        cancel?.removeEventListener('abort', cut);
      }
    },
  };
}
