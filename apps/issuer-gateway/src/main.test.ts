// The process as an operator runs it: starts against Redis, answers health, stops cleanly on
// SIGTERM with exit code 0; bad configuration stops it at once with one line.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedisServer, type RedisServerHandle } from '@fsm-certs/queue';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
const args = ['--import', 'tsx', '--conditions=development', main];
let redis: RedisServerHandle;
const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-main-'));

beforeAll(async () => {
  redis = await startRedisServer({ appendOnly: false });
});
afterAll(async () => {
  await redis.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('issuer-gateway main', () => {
  it('exits 2 with one line naming the bad option, its value and what is allowed', () => {
    const result = spawnSync(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '', GATEWAY_BATCH_MAX: 'lots', REDIS_URL: redis.url },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.trim() !== '');
    expect(lines, lines.join('\n')).toHaveLength(1);
    expect((JSON.parse(lines[0] ?? '{}') as { msg?: string }).msg).toBe(
      'issuer-gateway failed to start: Invalid configuration: gateway.batchMax="lots" (env GATEWAY_BATCH_MAX): allowed: requests per batch: an integer 1-500',
    );
  });

  it('serves /healthz and /metrics on its own port, is not ready without a ca-service, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '', REDIS_URL: redis.url, GATEWAY_PORT: String(port), GATEWAY_ADMIN_TOKEN: 'admin-token-0123456789', FSM_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    let health = 0;
    while (Date.now() < deadline && health !== 200) {
      health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
      if (health !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(health, output).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('no live ca-service heartbeat');
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toContain('fsm_certs_gateway_issuance_total');
    expect(output).toContain('"msg":"issuer-gateway ready for requests"');
    expect(output).not.toContain('admin-token-0123456789');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});
