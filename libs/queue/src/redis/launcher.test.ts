import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '@fsm-certs/testing';
import { QueueError } from '../errors.js';
import { createRedisConnection, reconnectDelay, waitForRedis } from './connection.js';
import { startRedisServer, type RedisServerHandle } from './launcher.js';

const servers: RedisServerHandle[] = [];
const clients: Redis[] = [];
afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const s of servers) await s.stop();
});

/** Everything in the server's append-only files (Redis 7 keeps them in appendonlydir/). */
function appendOnlyText(dir: string): string {
  const aofDir = path.join(dir, 'appendonlydir');
  if (!existsSync(aofDir)) return '';
  return readdirSync(aofDir).map((f) => readFileSync(path.join(aofDir, f), 'latin1')).join('');
}

describe('startRedisServer', () => {
  it('starts a private server with noeviction and append-only on, and keeps data across restart()', async () => {
    const server = await startRedisServer();
    servers.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const client = createRedisConnection(server.url, { role: 'worker' });
    clients.push(client);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'hash-max-listpack-value')).toEqual(['hash-max-listpack-value', '1024']);
    // The AOF is rewritten (a fork, then a child on a core of its own) from 512 MB, not 64.
    expect(await client.config('GET', 'auto-aof-rewrite-min-size')).toEqual(['auto-aof-rewrite-min-size', String(512 * 1024 * 1024)]);
    await client.set('survivor', 'yes');
    await server.restart();
    // The same client reconnects by itself (no new connection made by the test).
    expect(await client.get('survivor')).toBe('yes');
  });

  it('comes back after kill -9 on the same port', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const client = createRedisConnection(server.url, { role: 'worker' });
    clients.push(client);
    const value = randomUUID();
    await client.set('survivor', value);
    // In the append-only file (the OS keeps what was written when the process dies).
    await eventually(async () => (appendOnlyText(server.dir).includes(value) ? true : undefined), 10_000, 'the write to reach the append-only file');
    await server.kill();
    await server.restart();
    await waitForRedis(client, 5_000);
    expect(await client.get('survivor')).toBe(value);
  });

  it('tells its owner when the server dies from a kill -9 it did not send, and not when it is restarted or stopped', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const exits: Array<{ pid: number | undefined; signal: string | null }> = [];
    const died = new Promise<void>((resolve) =>
      server.onUnexpectedExit((exit) => {
        exits.push({ pid: exit.pid, signal: exit.signal });
        resolve();
      }),
    );
    await server.restart();
    const pid = server.pid;
    if (pid === undefined) throw new Error('the server has no pid');
    process.kill(pid, 'SIGKILL');
    await died;
    expect(exits).toEqual([{ pid, signal: 'SIGKILL' }]);
    await server.restart();
    await server.kill();
    await server.restart();
    await server.stop();
    expect(exits).toHaveLength(1);
  });

  it('says how to get redis-server when the binary is missing', async () => {
    const error = await startRedisServer({ binary: 'redis-server-that-does-not-exist' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueError);
    expect((error as QueueError).code).toBe('REDIS_NOT_INSTALLED');
    expect((error as QueueError).message).toMatch(/apt-get install redis-server/);
    expect((error as QueueError).message).toMatch(/REDIS_URL/);
  });

  it('reports a taken port instead of hanging', async () => {
    const first = servers[0];
    if (first === undefined) throw new Error('first test did not start a server');
    const error = await startRedisServer({ port: first.port, startTimeoutMs: 3_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueError);
    expect((error as QueueError).code).toBe('REDIS_START_FAILED');
  });
});

describe('createRedisConnection', () => {
  it('gives workers no per-command retry limit (BullMQ requirement) and clients a small one', () => {
    const worker = createRedisConnection('redis://127.0.0.1:1', { role: 'worker', lazyConnect: true });
    const client = createRedisConnection('redis://127.0.0.1:1', { role: 'client', lazyConnect: true });
    clients.push(worker, client);
    expect(worker.options.maxRetriesPerRequest).toBeNull();
    expect(client.options.maxRetriesPerRequest).toBe(3);
    expect(client.options.enableOfflineQueue).toBe(true);
  });

  it('backs off exponentially up to a cap and never gives up', () => {
    expect([1, 2, 3, 4].map((n) => reconnectDelay(n))).toEqual([50, 100, 200, 400]);
    expect(reconnectDelay(50)).toBe(2_000);
    expect(reconnectDelay(10_000, 500)).toBe(500);
  });

  it('fails a client command with a clear error while Redis is down, then works again after restart', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const client = createRedisConnection(server.url, { role: 'client', maxReconnectDelayMs: 200 });
    client.on('error', () => undefined);
    clients.push(client);
    await client.set('x', '1');
    await server.kill();
    await expect(client.get('x')).rejects.toThrow();
    await server.restart();
    await waitForRedis(client, 5_000);
    await client.set('x', '2');
    expect(await client.get('x')).toBe('2');
  });
});
