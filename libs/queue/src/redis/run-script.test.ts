// Scripts whose replies hold bytes (format-3 inventory records) must come back as bytes, on the
// clients the services use: the ca-service's command connection auto-pipelines.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { usePrivateRedis } from '../testing.test-helpers.js';
import { luaScript, runScriptBuffer } from './run-script.js';

const db = usePrivateRedis({ flush: 'each' });
const ECHO = luaScript(`return {ARGV[1], redis.call('GET', KEYS[1]), 7}`);
const clients: Redis[] = [];

afterAll(() => {
  for (const client of clients) client.disconnect();
});

describe('runScriptBuffer', () => {
  it.each([false, true])('gives back bytes that are not UTF-8 exactly, integers as numbers (auto-pipelining %s)', async (autoPipelining) => {
    const client = new Redis(db.url, { enableAutoPipelining: autoPipelining });
    clients.push(client);
    const bytes = Buffer.from([3, 0xff, 0x80, 0, 0xc3, 0x28]);
    await client.set('k', bytes);
    // Twice at once: the first call loads the script (NOSCRIPT, then EVAL), both go out in one pipeline.
    const replies = await Promise.all([runScriptBuffer(client, ECHO, ['k'], [bytes]), runScriptBuffer(client, ECHO, ['k'], ['text'])]);
    expect(replies).toEqual([
      [bytes, bytes, 7],
      [Buffer.from('text'), bytes, 7],
    ]);
  });
});
