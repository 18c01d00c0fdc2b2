import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, startRedisServer, type RedisServerHandle } from '@fsm-certs/queue';
import type { Redis } from 'ioredis';
import { RedisAccounting, aofBytesByKind, keyClass } from './redis-accounting.js';

describe('keyClass', () => {
  it('keeps the fixed segments of a key and replaces names and ids by a star', () => {
    expect(keyClass('{fsm-certs}:inv:cert:ca-1.bench.cluster.local')).toBe('inv:cert:*');
    expect(keyClass('{fsm-certs}:issue:3f0c6a4e-98a1-4c1e-b7a5-0d4c1e9a7b21:lock')).toBe('issue:*:lock');
    expect(keyClass('{fsm-certs}:issue:17')).toBe('issue:*');
    expect(keyClass('{fsm-certs}:events')).toBe('events');
  });
});

describe('aofBytesByKind', () => {
  it('counts what follows a truncated command as unparsed instead of guessing', () => {
    const whole = '*3\r\n$3\r\nSET\r\n$5\r\n{p}:a\r\n$1\r\nx\r\n';
    const cut = '*3\r\n$3\r\nSET\r\n$5\r\n{p}:a\r\n$10\r\nxy';
    const split = aofBytesByKind(Buffer.from(whole + cut, 'latin1'));
    expect(split.get('SET a')).toBe(whole.length);
    expect(split.get('(unparsed)')).toBe(cut.length);
  });
});

// The AOF split read back from a real Redis's append-only file: what each command wrote.
describe('RedisAccounting against a real redis-server with its AOF', () => {
  let server: RedisServerHandle;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer({ appendOnly: true });
    redis = createRedisConnection(server.url, { role: 'client' });
    // everysec may postpone a write while an fsync runs; `always` writes before every reply.
    await redis.config('SET', 'appendfsync', 'always');
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('splits the bytes a slice appended to the AOF by command and key class, per certificate', async () => {
    const accounting = new RedisAccounting(redis);
    await accounting.begin();
    const value = 'v'.repeat(1000);
    for (let i = 0; i < 4; i++) {
      await redis.hset(`{fsm-certs}:inv:cert:name-${i}.example`, 'record', value);
      await redis.zadd('{fsm-certs}:inv:names', 0, `name-${i}.example`);
      await redis.get('{fsm-certs}:inv:cert-nothing');
    }
    await accounting.end(2);
    const report = accounting.report();
    expect(report['certs']).toBe(2);
    const aof = report['aof'] as { bytes_per_cert: number; by_kind: Record<string, number> };
    // Four HSETs of ~1,050 bytes each over two certificates; reads write nothing to the AOF.
    expect(aof.by_kind['HSET inv:cert:*']).toBeGreaterThan(2 * 1000);
    expect(aof.by_kind['HSET inv:cert:*']).toBeLessThan(2 * 1100);
    expect(aof.by_kind['ZADD inv:names']).toBeGreaterThan(0);
    expect(Object.keys(aof.by_kind).some((kind) => kind.startsWith('GET'))).toBe(false);
    expect(aof.bytes_per_cert).toBe(Object.values(aof.by_kind).reduce((a, b) => a + b, 0));
    const commands = report['commands_calls_us_per_cert'] as Record<string, [number, number]>;
    expect(commands['hset']?.[0]).toBe(2);
    expect(commands['get']?.[0]).toBe(2);
    expect(commands['info']).toBeUndefined();
  });
});
