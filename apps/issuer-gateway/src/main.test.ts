// The process as an operator runs it, on the shared service skeleton (libs/runtime): starts
// against Redis, answers health on its own port, stops within WORKER_SHUTDOWN_TIMEOUT on SIGTERM
// with exit code 0 even with a request still waiting; bad configuration stops it at once with
// one line and exit code 2. Every wait is for an event (the IPC ready message, a queued job,
// the exit), never for time to pass.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createIssueQueue, createRedisConnection, freePort } from '@fsm-certs/queue';
import { usePrivateRedis } from '@fsm-certs/queue/testing';
import { eventually } from '@fsm-certs/testing';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
const args = ['--import', 'tsx', '--conditions=development', main];
const ADMIN = 'admin-token-0123456789';
const db = usePrivateRedis();
const dataDir = mkdtempSync(path.join(tmpdir(), 'gw-main-'));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  output(): string;
  lines(): Array<{ msg?: string; level?: number; budgetMs?: number }>;
}

/** Starts the gateway with an IPC channel and resolves on its ready message (the port is bound). */
async function startGateway(env: NodeJS.ProcessEnv): Promise<Running> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env['PATH'] ?? '', REDIS_URL: db.url, GATEWAY_ADMIN_TOKEN: ADMIN, FSM_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message.type === 'ready' && typeof message.url === 'string') resolve(message.url);
    });
    void exited.then((code) => reject(new Error(`issuer-gateway exited (${String(code)}) before it was ready:\n${output}`)));
  });
  return {
    child,
    url,
    exited,
    output: () => output,
    lines: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; level?: number; budgetMs?: number }),
  };
}

describe('issuer-gateway main', () => {
  it('exits 2 with one line naming the bad option, its value and what is allowed', () => {
    const result = spawnSync(process.execPath, args, {
      env: { PATH: process.env['PATH'] ?? '', GATEWAY_BATCH_MAX: 'lots', REDIS_URL: db.url },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.trim() !== '');
    expect(lines, lines.join('\n')).toHaveLength(1);
    expect((JSON.parse(lines[0] ?? '{}') as { msg?: string }).msg).toBe(
      'issuer-gateway failed to start: Invalid configuration: gateway.batchMax="lots" (env GATEWAY_BATCH_MAX): allowed: requests per batch: an integer 1-500',
    );
  });

  it('serves /healthz and /metrics on its own port, is not ready without a ca-service, and exits 0 on SIGTERM', async () => {
    const gw = await startGateway({ GATEWAY_PORT: String(await freePort()) });
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toContain('application/problem+json');
    expect(await ready.json()).toMatchObject({ code: 'NOT_READY', checks: { redis: 'ok', queue: 'ok', 'ca-service': 'no live ca-service heartbeat' } });
    const metrics = await fetch(`${gw.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toContain('fsm_certs_gateway_issuance_total');
    expect(gw.output()).toContain('"msg":"issuer-gateway ready for requests"');
    expect(gw.output()).not.toContain(ADMIN);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(gw.lines().map((l) => l.msg)).toContain('stopped cleanly');
  }, 120_000);

  it('on SIGTERM with an issue request still waiting for a ca-service, stops within WORKER_SHUTDOWN_TIMEOUT (exit 0) and leaves the job queued', async () => {
    const prefix = '{gw-main-budget}';
    // The request would wait two minutes for a ca-service; the budget is 4 s.
    const gw = await startGateway({ GATEWAY_PORT: String(await freePort()), FSM_REDIS_PREFIX: prefix, GATEWAY_ISSUE_TIMEOUT: '2m', WORKER_SHUTDOWN_TIMEOUT: '4s' });
    const answer = fetch(`${gw.url}/v1/certificates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ commonName: 'waiting.bookstore.cluster.local' }),
    }).then(
      (res) => res.status,
      () => 'connection closed' as const,
    );
    const admin = createRedisConnection(db.url, { role: 'client' });
    const queue = createIssueQueue(admin, prefix);
    try {
      // The request is in hand: its batch is queued for a ca-service that never comes.
      await eventually(async () => ((await queue.getWaitingCount()) > 0 ? true : undefined), 60_000, 'the request to be queued');
      gw.child.kill('SIGTERM');
      expect(await gw.exited, gw.output()).toBe(0);
      const msgs = gw.lines().map((l) => l.msg);
      expect(msgs).toEqual(expect.arrayContaining(['shutting down: finishing in-flight work', 'shutdown budget nearly spent: cancelling work still in flight', 'stopped cleanly after cancelling work in flight']));
      expect(msgs).not.toContain('shutdown overran its budget: exiting without finishing');
      expect(gw.lines().find((l) => l.msg === 'shutting down: finishing in-flight work')?.budgetMs).toBe(4_000);
      // The client is not left hanging, and the job stays for a ca-service to issue later.
      expect(await answer).toBe('connection closed');
      expect(await queue.getWaitingCount()).toBe(1);
    } finally {
      await queue.close();
      admin.disconnect();
    }
  }, 120_000);
});
