// GET /healthz of the agent: the certificate's remaining life and the last error, as JSON.
// 200 while the files hold a certificate that has not expired — also while the gateway is
// unreachable, since the workload is still served — and 503 when there is none or it expired
// (a liveness/readiness probe then tells the operator). Loopback by default: it is for the
// kubelet's probes and the pod's own containers, not for the network.
import http from 'node:http';
import { closeNow, listenOn, type HealthServer } from '@fsm-certs/runtime';

export interface AgentHealth {
  readonly status: 'ok' | 'unhealthy';
  /** Why unhealthy: no certificate yet, or it expired. */
  readonly reason?: string;
  readonly commonName: string;
  readonly dir: string;
  readonly certificate: {
    readonly serialNumber: string;
    readonly notBefore: string;
    readonly notAfter: string;
    readonly renewAt: string | null;
    readonly remainingSeconds: number;
  } | null;
  /** SHA-256 fingerprints of the roots in ca.pem (two during a root rotation). */
  readonly trustBundle: { readonly roots: readonly string[] } | null;
  readonly lastSyncAt: string | null;
  readonly lastError: { readonly code: string; readonly message: string; readonly at: string } | null;
  readonly gateway: { readonly url: string; readonly reachable: boolean };
  readonly events: { readonly connected: boolean; readonly lastEventId: string | null };
}

/** The same handle as the service health servers'. */
export type { HealthServer } from '@fsm-certs/runtime';

export async function startHealthServer(options: { host: string; port: number; health: () => AgentHealth }): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path !== '/healthz') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz\n');
      return;
    }
    const health = options.health();
    res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`${JSON.stringify(health)}\n`);
  });
  server.keepAliveTimeout = 5_000;
  const { url, port } = await listenOn(server, options.host, options.port);
  return { url, port, close: () => closeNow(server) };
}
