// The whole system on one machine: a Redis (private unless REDIS_URL is given), ca-service,
// issuer-gateway and rotation-worker(s) as separate processes, talking only through Redis.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort, startRedisServer, type RedisServerHandle } from '@fsm-certs/queue';
import { AppProcess, type AppName, type RunFrom } from './app-process.js';

export interface StackOptions {
  /** Data directory for the file secret store (and the private Redis). */
  readonly dataDir: string;
  /** Use this Redis instead of launching a private one. */
  readonly redisUrl?: string;
  /** Extra environment for every app (e.g. CERT_MANAGER=vault and VAULT_*). */
  readonly env?: NodeJS.ProcessEnv;
  readonly gatewayPort?: number;
  readonly adminToken?: string;
  /** How many rotation-worker replicas to run; default 1. */
  readonly rotationWorkers?: number;
  /** How many ca-service replicas to run; default 1. */
  readonly caServices?: number;
  readonly onLine?: (app: string, line: string) => void;
  readonly readyTimeoutMs?: number;
  /** Keep a private Redis's data across restarts of the stack (npm start); default false. */
  readonly persistentRedis?: boolean;
  /** Run the apps from source (tsx) or from `npm run build` output; see AppProcess. */
  readonly runFrom?: RunFrom;
}

export interface Stack {
  readonly gatewayUrl: string;
  readonly adminToken: string;
  readonly redisUrl: string;
  readonly dataDir: string;
  /** The private Redis, when we launched one. */
  readonly redis: RedisServerHandle | undefined;
  readonly apps: readonly AppProcess[];
  app(label: string): AppProcess;
  /** Resolves when the gateway's /readyz answers 200. */
  waitReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  let redis: RedisServerHandle | undefined;
  let redisUrl = options.redisUrl;
  if (redisUrl === undefined) {
    const redisDir = path.join(dataDir, 'redis');
    if (options.persistentRedis === true) await mkdir(redisDir, { recursive: true, mode: 0o700 });
    redis = await startRedisServer(options.persistentRedis === true ? { dir: redisDir } : {});
    redisUrl = redis.url;
  }
  const gatewayPort = options.gatewayPort ?? (await freePort());
  const adminToken = options.adminToken ?? randomBytes(24).toString('base64url');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    REDIS_URL: redisUrl,
    FSM_DATA_DIR: dataDir,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_ADMIN_TOKEN: adminToken,
  };
  const plan: Array<[AppName, string]> = [];
  for (let i = 1; i <= (options.caServices ?? 1); i += 1) plan.push(['ca-service', i === 1 ? 'ca-service' : `ca-service-${i}`]);
  plan.push(['issuer-gateway', 'issuer-gateway']);
  for (let i = 1; i <= (options.rotationWorkers ?? 1); i += 1) {
    plan.push(['rotation-worker', i === 1 ? 'rotation-worker' : `rotation-worker-${i}`]);
  }
  const apps: AppProcess[] = [];
  try {
    for (const [app, label] of plan) {
      apps.push(new AppProcess(app, { env, label, ...(options.onLine ? { onLine: options.onLine } : {}), ...(options.runFrom ? { runFrom: options.runFrom } : {}) }));
    }
  } catch (error) {
    // E.g. runFrom 'dist' without a build: leave nothing running behind.
    for (const app of apps) await app.stop();
    await redis?.stop();
    throw error;
  }
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;

  const stack: Stack = {
    gatewayUrl,
    adminToken,
    redisUrl,
    dataDir,
    redis,
    apps,
    app(label) {
      const found = apps.find((a) => a.label === label);
      if (found === undefined) throw new Error(`no app labelled ${label} in this stack`);
      return found;
    },
    async waitReady(timeoutMs = options.readyTimeoutMs ?? 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        const dead = apps.find((a) => !a.running);
        if (dead !== undefined) {
          throw new Error(`${dead.label} exited during start-up:\n${dead.recentOutput.slice(-30).join('\n')}`);
        }
        try {
          const res = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
          if (res.status === 200) return;
          last = `${res.status} ${await res.text()}`;
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      const tails = apps.map((a) => `--- ${a.label}\n${a.recentOutput.slice(-15).join('\n')}`).join('\n');
      throw new Error(`the gateway was not ready after ${timeoutMs} ms (last: ${last})\n${tails}`);
    },
    async stop() {
      // Stop the edge first so no new work arrives, then the workers, then Redis.
      const order = [...apps].sort((a, b) => rank(a.app) - rank(b.app));
      for (const app of order) await app.stop();
      await redis?.stop();
    },
  };
  return stack;
}

function rank(app: AppName): number {
  return app === 'issuer-gateway' ? 0 : app === 'rotation-worker' ? 1 : 2;
}
