// `npm start`: the whole system on this machine with the embedded defaults — Tresor CA, file
// secret store under .data/, and a private redis-server unless REDIS_URL is set. Writes
// .data/endpoint.json once OUR gateway is ready (never when another server holds its port);
// restarts crashed processes, stops everything when one keeps crashing; Ctrl-C / SIGTERM stops
// everything cleanly. Each process logs to .data/logs/<name>.log as well as to this terminal.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GatewayClient } from '@fsm-certs/client';
import { newAdminToken } from './admin-token.js';
import { repoRoot } from './app-process.js';
import { StackError } from './errors.js';
import { startStack, type Stack } from './stack.js';
import { restartLine } from './supervisor.js';

async function adminTokenFor(dataDir: string): Promise<string> {
  const fromEnv = process.env['GATEWAY_ADMIN_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const token = newAdminToken();
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' });
  return token;
}

function redisMissing(): boolean {
  if (process.env['REDIS_URL'] !== undefined && process.env['REDIS_URL'] !== '') return false;
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter);
  return !dirs.some((dir) => existsSync(path.join(dir, 'redis-server')));
}

/**
 * Replaces ca.crt whole: written under a temporary name and renamed over it, so a reader (a test,
 * an operator's tool) never sees it empty or half written while the follower below rewrites it.
 */
async function writeCaFile(caFile: string, pem: string): Promise<void> {
  const temp = `${caFile}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, pem, { mode: 0o644 });
  await rename(temp, caFile);
}

/** Rewrites ca.crt on every trust-bundle-changed (a root rotated in Vault), so the file never goes stale. */
async function keepCaFileCurrent(client: GatewayClient, caFile: string, stopping: () => boolean): Promise<void> {
  while (!stopping()) {
    try {
      const events = client.events();
      // A change while we were not following would otherwise be missed: start from the current bundle.
      await writeCaFile(caFile, await client.trustBundlePem());
      for await (const event of events) {
        if (event.type !== 'trust-bundle-changed') continue;
        await writeCaFile(caFile, await client.trustBundlePem());
        console.log(`fsm-certs: trust bundle changed; ${caFile} rewritten`);
      }
    } catch {
      // The gateway restarts or stops: follow again shortly, unless we are stopping.
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
  }
}

async function main(): Promise<void> {
  if (redisMissing()) {
    console.error(
      'fsm-certs needs Redis: install redis-server (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) ' +
        'or set REDIS_URL=redis://host:6379 to use an existing one.',
    );
    process.exit(1);
  }
  const dataDir = path.resolve(process.env['FSM_DATA_DIR'] ?? path.join(repoRoot(), '.data'));
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const adminToken = await adminTokenFor(dataDir);
  const rawPort = process.env['GATEWAY_PORT'];
  const port = rawPort === undefined || rawPort === '' ? 8080 : Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`fsm-certs: GATEWAY_PORT=${rawPort ?? ''} is not a port; use a number from 1 to 65535, or 0 for any free one (default 8080)`);
    process.exit(2);
  }
  const redisUrl = process.env['REDIS_URL'];
  console.log(`fsm-certs: starting (provider ${process.env['CERT_MANAGER'] ?? 'tresor'}, data in ${dataDir}, ${redisUrl ? `Redis ${redisUrl}` : 'private Redis'})`);

  const stack: Stack = await startStack({
    dataDir,
    ...(redisUrl ? { redisUrl } : {}),
    gatewayPort: port,
    adminToken,
    persistentRedis: true,
    onLine: (app, line) => process.stdout.write(`[${app}] ${line}\n`),
    onEvent: (event) => {
      // The give-up is reported below, with the crashing process's last lines.
      if (event.kind === 'restart') console.error(restartLine(event));
    },
  });
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`fsm-certs: ${signal} received, stopping gateway, workers and Redis...`);
    await stack.stop();
    console.log('fsm-certs: stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  let failing = false;
  const failAndExit = async (error: unknown): Promise<void> => {
    // waitReady and whenFailed may both report the same failure.
    if (failing) return;
    failing = true;
    stopping = true;
    const code = error instanceof StackError ? `${error.code}: ` : '';
    console.error(`fsm-certs: ${code}${error instanceof Error ? error.message : String(error)}`);
    await stack.stop();
    console.error('fsm-certs: stopped.');
    process.exit(1);
  };
  void stack.whenFailed().then(failAndExit);

  try {
    await stack.waitReady(90_000);
  } catch (error) {
    await failAndExit(error);
    return;
  }
  const caFile = path.join(dataDir, 'ca.crt');
  const caRes = await fetch(`${stack.gatewayUrl}/v1/ca`, { headers: { accept: 'application/x-pem-file' } });
  await writeCaFile(caFile, await caRes.text());
  void keepCaFileCurrent(new GatewayClient({ baseUrl: stack.gatewayUrl, token: adminToken }), caFile, () => stopping);
  const endpoint = { gatewayUrl: stack.gatewayUrl, adminToken, caFile, redisUrl: stack.redisUrl };
  await writeFile(path.join(dataDir, 'endpoint.json'), JSON.stringify(endpoint, null, 2) + '\n', { mode: 0o600 });
  console.log(
    [
      '',
      'fsm-certs is ready.',
      `  gateway:     ${stack.gatewayUrl}`,
      `  admin token: ${adminToken}`,
      `  trust root:  ${caFile}`,
      `  written to:  ${path.join(dataDir, 'endpoint.json')}`,
      `  processes:   ${processList(stack)}`,
      `  logs:        ${stack.logDir}`,
      '',
      `Try: curl -s -H "authorization: Bearer ${adminToken}" -H 'content-type: application/json' \\`,
      `       -d '{"commonName":"bookstore-v2.bookstore.cluster.local"}' ${stack.gatewayUrl}/v1/certificates`,
      '     npx fsm-certs ca dates',
      'A crashed process is restarted; Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

/** `redis-server 1201, ca-service 1202, ...`: what `ps` shows, for operators and tests. */
function processList(stack: Stack): string {
  const entries = [...(stack.redis ? [['redis-server', stack.redis.pid] as const] : []), ...stack.apps.map((a) => [a.label, a.pid] as const)];
  return entries.map(([label, pid]) => `${label} ${String(pid)}`).join(', ');
}

main().catch((error: unknown) => {
  console.error(`fsm-certs: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
