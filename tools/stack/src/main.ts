// `npm start`: the whole system on this machine with the embedded defaults — Tresor CA, file
// secret store under .data/, and a private redis-server unless REDIS_URL is set. Writes
// .data/endpoint.json once the gateway is ready; Ctrl-C / SIGTERM stops everything cleanly.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './app-process.js';
import { startStack, type Stack } from './stack.js';

async function adminTokenFor(dataDir: string): Promise<string> {
  const fromEnv = process.env['GATEWAY_ADMIN_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const token = randomBytes(24).toString('base64url');
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' });
  return token;
}

function redisMissing(): boolean {
  if (process.env['REDIS_URL'] !== undefined && process.env['REDIS_URL'] !== '') return false;
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter);
  return !dirs.some((dir) => existsSync(path.join(dir, 'redis-server')));
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
  const port = Number(process.env['GATEWAY_PORT'] ?? 8080);
  const redisUrl = process.env['REDIS_URL'];
  console.log(`fsm-certs: starting (provider ${process.env['CERT_MANAGER'] ?? 'tresor'}, data in ${dataDir}, ${redisUrl ? `Redis ${redisUrl}` : 'private Redis'})`);

  const stack: Stack = await startStack({
    dataDir,
    ...(redisUrl ? { redisUrl } : {}),
    gatewayPort: port,
    adminToken,
    persistentRedis: true,
    onLine: (app, line) => process.stdout.write(`[${app}] ${line}\n`),
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

  try {
    await stack.waitReady(90_000);
  } catch (error) {
    console.error(`fsm-certs: ${error instanceof Error ? error.message : String(error)}`);
    await stack.stop();
    process.exit(1);
  }
  const caFile = path.join(dataDir, 'ca.crt');
  const caRes = await fetch(`${stack.gatewayUrl}/v1/ca`, { headers: { accept: 'application/x-pem-file' } });
  await writeFile(caFile, await caRes.text(), { mode: 0o644 });
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
      '',
      `Try: curl -s -H "authorization: Bearer ${adminToken}" -H 'content-type: application/json' \\`,
      `       -d '{"commonName":"bookstore-v2.bookstore.cluster.local"}' ${stack.gatewayUrl}/v1/certificates`,
      '     npm run fsm-certs -- ca dates',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  for (const app of stack.apps) {
    void app.exited().then((code) => {
      if (!stopping) console.error(`fsm-certs: ${app.label} exited unexpectedly (code ${code}); the others keep running`);
    });
  }
}

main().catch((error: unknown) => {
  console.error(`fsm-certs: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
