// The small HTTP listener of a service without an HTTP API of its own (ca-service,
// rotation-worker): GET /healthz (liveness: the event loop answers), /readyz (the service's
// readiness checks) and /metrics (Prometheus text). Nothing else, no body parsing, no auth: it
// reveals only what a probe or a scraper needs. Loopback unless HEALTH_HOST says otherwise.
import http from 'node:http';
import type { Registry } from 'prom-client';
import { closeNow, listenOn } from './listen.js';
import type { Logger } from './logger.js';
import { readinessAnswer, type ReadinessReport } from './readiness.js';

export interface HealthServerOptions {
  readonly host: string;
  /** 0 = any free port (the bound one is in `port` / `url`). */
  readonly port: number;
  readonly readiness: () => Promise<ReadinessReport>;
  readonly registry: Registry;
  readonly logger?: Logger;
}

export interface HealthServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: string): void {
  res.writeHead(status, { ...headers, 'cache-control': 'no-store' });
  res.end(body);
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }, 'method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      send(res, 200, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ status: 'ok' }));
    } else if (path === '/readyz') {
      const answer = readinessAnswer(await options.readiness());
      send(res, answer.status, answer.headers, answer.body);
    } else if (path === '/metrics') {
      send(res, 200, { 'content-type': options.registry.contentType }, await options.registry.metrics());
    } else {
      send(res, 404, { 'content-type': 'text/plain' }, 'not found: try /healthz, /readyz or /metrics\n');
    }
  };
  const server = http.createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      options.logger?.warn({ err: error instanceof Error ? error.message : String(error), path: req.url }, 'health endpoint failed');
      if (!res.headersSent) send(res, 500, { 'content-type': 'text/plain' }, 'internal error\n');
      else res.destroy();
    });
  });
  // Probes open a connection per request; idle keep-alive sockets must not delay close().
  server.keepAliveTimeout = 5_000;
  const { url, port } = await listenOn(server, options.host, options.port);
  return { url, port, close: () => closeNow(server) };
}
