// Starts the ca-service and the issuer-gateway one after the other against a filled Redis and
// times each from process start to its /readyz answering 200: what an operator waits for after
// a deploy or a crash, and what grows if a start-up scans the inventory.
import { freePort } from '@fsm-certs/queue';
import { AppProcess, type RunFrom } from '@fsm-certs/stack';

export interface StartedApps {
  readonly gatewayUrl: string;
  readonly adminToken: string;
  readonly caServiceReadyMs: number;
  readonly gatewayReadyMs: number;
  stop(): Promise<void>;
}

async function readyAfter(url: string, app: AppProcess, timeoutMs: number): Promise<number> {
  const started = performance.now();
  // Polls every 20 ms, bounded by the timeout; the first 200 is the figure.
  while (performance.now() - started < timeoutMs) {
    if (!app.running) throw new Error(`${app.label} exited during start-up: ${app.recentOutput.slice(-5).join(' | ')}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${app.label} was not ready within ${timeoutMs} ms: ${app.recentOutput.slice(-5).join(' | ')}`);
}

export async function startApps(options: {
  readonly redisUrl: string;
  readonly dataDir: string;
  readonly adminToken: string;
  readonly runFrom: RunFrom;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}): Promise<StartedApps> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const [healthPort, gatewayPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    FSM_SECRET_STORE: 'file',
    ...process.env,
    LOG_LEVEL: 'warn',
    ...options.env,
    REDIS_URL: options.redisUrl,
    FSM_DATA_DIR: options.dataDir,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_ADMIN_TOKEN: options.adminToken,
    HEALTH_HOST: '127.0.0.1',
  };
  const started: AppProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const app of started.reverse()) await app.stop();
  };
  try {
    const ca = new AppProcess('ca-service', { env: { ...env, HEALTH_PORT: String(healthPort) }, runFrom: options.runFrom });
    started.push(ca);
    const caServiceReadyMs = await readyAfter(`http://127.0.0.1:${healthPort}/readyz`, ca, timeoutMs);
    const gateway = new AppProcess('issuer-gateway', { env: { ...env, HEALTH_PORT: '0' }, runFrom: options.runFrom });
    started.push(gateway);
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const gatewayReadyMs = await readyAfter(`${gatewayUrl}/readyz`, gateway, timeoutMs);
    return { gatewayUrl, adminToken: options.adminToken, caServiceReadyMs, gatewayReadyMs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
