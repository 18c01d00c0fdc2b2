// The whole system on one machine: a Redis (private unless REDIS_URL is given), ca-service,
// issuer-gateway and rotation-worker(s) as separate processes, talking only through Redis.
// Every process is supervised: a crash is restarted with backoff, a crash loop stops the stack.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort, startRedisServer, type RedisServerHandle } from '@fsm-certs/queue';
import { newAdminToken } from './admin-token.js';
import { AppProcess, type AppName, type RunFrom } from './app-process.js';
import { gatewayPortInUse, StackError } from './errors.js';
import { waitForGateway } from './gateway-ready.js';
import { giveUpMessage, Supervisor, type SupervisionPolicy, type Supervised, type SupervisorEvent } from './supervisor.js';

export interface StackOptions {
  /** Data directory for the file secret store (and the private Redis). */
  readonly dataDir: string;
  /** Use this Redis instead of launching a private one. */
  readonly redisUrl?: string;
  /** Extra environment for every app (e.g. CERT_MANAGER=vault and VAULT_*). */
  readonly env?: NodeJS.ProcessEnv;
  /** Default (and 0): a free port. */
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
  /** One log file per process (`<label>.log`, `redis.log`); default `<dataDir>/logs`. */
  readonly logDir?: string;
  /** Restart crashed processes (default policy: see DEFAULT_SUPERVISION); false: leave them dead. */
  readonly supervise?: Partial<SupervisionPolicy> | false;
  /** Every restart and the give-up, as they happen (`npm start` prints them). */
  readonly onEvent?: (event: SupervisorEvent) => void;
}

export interface Stack {
  readonly gatewayUrl: string;
  readonly adminToken: string;
  readonly redisUrl: string;
  readonly dataDir: string;
  readonly logDir: string;
  /** The private Redis, when we launched one. */
  readonly redis: RedisServerHandle | undefined;
  readonly apps: readonly AppProcess[];
  app(label: string): AppProcess;
  /**
   * Resolves when OUR gateway serves and its /readyz answers 200: the gateway child announced
   * (over IPC, with its pid) that it holds the port, so a server that merely answers on that
   * port does not count. Rejects with a StackError (GATEWAY_PORT_IN_USE, STACK_GAVE_UP,
   * STACK_NOT_READY, STACK_START_FAILED).
   */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Resolves (it never rejects) if the stack stops on its own: a crash loop or a lost port. */
  whenFailed(): Promise<StackError>;
  /** Stops the edge first, then the workers, then Redis. Idempotent. */
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const logDir = path.resolve(options.logDir ?? path.join(dataDir, 'logs'));
  await mkdir(logDir, { recursive: true, mode: 0o700 });
  const redisLog = path.join(logDir, 'redis.log');
  let redis: RedisServerHandle | undefined;
  let redisUrl = options.redisUrl;
  if (redisUrl === undefined) {
    const redisDir = path.join(dataDir, 'redis');
    if (options.persistentRedis === true) await mkdir(redisDir, { recursive: true, mode: 0o700 });
    redis = await startRedisServer({ logFile: redisLog, ...(options.persistentRedis === true ? { dir: redisDir } : {}) });
    redisUrl = redis.url;
  }
  // 0 means any free port, as GATEWAY_PORT=0 does for the gateway alone; chosen here so the URL is known.
  const gatewayPort = options.gatewayPort === undefined || options.gatewayPort === 0 ? await freePort() : options.gatewayPort;
  const adminToken = options.adminToken ?? newAdminToken();
  const provider = options.env?.['CERT_MANAGER'] ?? process.env['CERT_MANAGER'];
  const env: NodeJS.ProcessEnv = {
    // The embedded mode keeps its secrets under dataDir even when the shell has KUBECONFIG set
    // (the apps alone would then use the cluster's Secrets). cert-manager's issuer and CA bundle
    // live in the cluster, so with it the apps' own default applies. FSM_SECRET_STORE overrides.
    ...(provider === 'cert-manager' ? {} : { FSM_SECRET_STORE: 'file' }),
    ...process.env,
    ...options.env,
    REDIS_URL: redisUrl,
    FSM_DATA_DIR: dataDir,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_ADMIN_TOKEN: adminToken,
    // Replicas share this host: each health server takes a free port (logged at start).
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: '0',
  };
  const plan: Array<[AppName, string]> = [];
  for (let i = 1; i <= (options.caServices ?? 1); i += 1) plan.push(['ca-service', i === 1 ? 'ca-service' : `ca-service-${i}`]);
  plan.push(['issuer-gateway', 'issuer-gateway']);
  for (let i = 1; i <= (options.rotationWorkers ?? 1); i += 1) {
    plan.push(['rotation-worker', i === 1 ? 'rotation-worker' : `rotation-worker-${i}`]);
  }

  let stopping: Promise<void> | undefined;
  let failure: StackError | undefined;
  let reportFailure: (error: StackError) => void = () => undefined;
  const failed = new Promise<StackError>((resolve) => (reportFailure = resolve));
  const apps: AppProcess[] = [];

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      supervisor?.stop();
      // Stop the edge first so no new work arrives, then the workers, then Redis.
      const order = [...apps].sort((a, b) => rank(a.app) - rank(b.app));
      for (const app of order) await app.stop();
      await redis?.stop();
    })();
    return stopping;
  };
  const fail = (error: StackError): void => {
    if (failure !== undefined || stopping !== undefined) return;
    failure = error;
    void stop().then(() => reportFailure(error));
  };

  const supervisor =
    options.supervise === false
      ? undefined
      : new Supervisor({
          policy: options.supervise ?? {},
          onEvent: (event) => {
            options.onEvent?.(event);
            if (event.kind !== 'give-up') return;
            const tail = apps.find((a) => a.label === event.label)?.recentOutput.slice(-10) ?? [];
            fail(new StackError('STACK_GAVE_UP', [giveUpMessage(event), ...(tail.length > 0 ? ['its last lines:', ...tail] : [])].join('\n')));
          },
        });

  try {
    for (const [app, label] of plan) {
      apps.push(
        new AppProcess(app, {
          env,
          label,
          logFile: path.join(logDir, `${label}.log`),
          ...(options.onLine ? { onLine: options.onLine } : {}),
          ...(options.runFrom ? { runFrom: options.runFrom } : {}),
        }),
      );
    }
  } catch (error) {
    // E.g. runFrom 'dist' without a build: leave nothing running behind.
    await stop();
    throw error;
  }

  for (const app of apps) {
    const target: Supervised = { label: app.label, logFile: app.logFile ?? logDir, restart: () => Promise.resolve(app.restart()) };
    app.onUnexpectedExit((exit) => {
      if (stopping !== undefined) return;
      // Another process holds our port: restarting cannot help, and nothing else may answer for us.
      if (app.app === 'issuer-gateway' && app.recentOutput.slice(-30).some((line) => line.includes('EADDRINUSE'))) {
        fail(gatewayPortInUse(gatewayPort));
        return;
      }
      supervisor?.crashed(target, exit);
    });
  }
  if (redis !== undefined) {
    const handle = redis;
    const target: Supervised = { label: 'redis-server', logFile: redisLog, restart: () => handle.restart() };
    handle.onUnexpectedExit((exit) => {
      if (stopping === undefined) supervisor?.crashed(target, exit);
    });
  }

  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const gateway = apps.find((a) => a.app === 'issuer-gateway');
  return {
    gatewayUrl,
    adminToken,
    redisUrl,
    dataDir,
    logDir,
    redis,
    apps,
    app(label) {
      const found = apps.find((a) => a.label === label);
      if (found === undefined) throw new Error(`no app labelled ${label} in this stack`);
      return found;
    },
    async waitReady(timeoutMs = options.readyTimeoutMs ?? 60_000) {
      if (gateway === undefined) throw new StackError('STACK_START_FAILED', 'this stack runs no issuer-gateway');
      await waitForGateway({
        gateway,
        gatewayUrl,
        timeoutMs,
        failure: () => failure,
        // Unsupervised, a process that dies during start-up ends the wait at once.
        deadApp: () => (supervisor === undefined ? apps.find((a) => !a.running) : undefined),
        tails: () => apps.map((a) => `--- ${a.label} (${a.logFile ?? 'no log file'})\n${a.recentOutput.slice(-15).join('\n')}`).join('\n'),
      });
    },
    whenFailed: () => failed,
    stop,
  };
}

function rank(app: AppName): number {
  return app === 'issuer-gateway' ? 0 : app === 'rotation-worker' ? 1 : 2;
}
