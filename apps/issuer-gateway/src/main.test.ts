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
  it('exits 1 with one line naming the bad option', () => {
    const result = spawnSync(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '', GATEWAY_BATCH_MAX: 'lots', REDIS_URL: redis.url },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/GATEWAY_BATCH_MAX|gateway\.batchMax/);
  });

  it('serves /healthz, is not ready without a ca-service, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '', REDIS_URL: redis.url, GATEWAY_PORT: String(port), GATEWAY_ADMIN_TOKEN: 'admin-token-0123456789', FSM_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // It says when it serves; how long that takes on a busy machine is not this test's business.
    const serving = new Promise<void>((resolve, reject) => {
      const read = (c: Buffer): void => {
        output += c.toString();
        if (output.includes('"msg":"issuer-gateway ready for requests"')) resolve();
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      void exited.then((code) => reject(new Error(`exited with ${String(code)} before it was ready:\n${output}`)));
    });
    await serving;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status, output).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('no live ca-service heartbeat');
    expect(output).toContain('"msg":"issuer-gateway ready for requests"');
    expect(output).not.toContain('admin-token-0123456789');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 40_000);
});
