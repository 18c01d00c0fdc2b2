// The shared per-file Redis hook: what the suites using it rely on.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { usePrivateRedis, type PrivateRedis } from './testing.test-helpers.js';

/** Whether anything accepts a TCP connection on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const early = usePrivateRedis();
// Module load runs before any hook: a suite reading the handle here gets told, not a crash later.
const readAtLoad = ((): unknown => {
  try {
    return early.url;
  } catch (error) {
    return error;
  }
})();

it('refuses to be read at module load, before its server has started, and says where to read it', () => {
  expect(readAtLoad).toBeInstanceOf(Error);
  expect((readAtLoad as Error).message).toMatch(/from a hook or test, after beforeAll/);
  expect(early.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
});

describe('with flush each', () => {
  const db = usePrivateRedis({ flush: 'each' });
  it('gives the first test a server it can write to', async () => {
    await db.redis.set('left-over', '1');
    expect(await db.redis.get('left-over')).toBe('1');
  });
  it('empties it before the next test', async () => {
    expect(await db.redis.dbsize()).toBe(0);
  });
});

describe('without flush', () => {
  const db = usePrivateRedis();
  it('keeps what one test wrote for the next', async () => {
    await db.redis.set('kept', '1');
  });
  it('so the next test still reads it', async () => {
    expect(await db.redis.get('kept')).toBe('1');
  });
});

let finished: { handle: PrivateRedis; port: number } | undefined;
describe('a scope of its own', () => {
  const db = usePrivateRedis();
  it('runs its own server, apart from the file-level one', async () => {
    expect(db.url).not.toBe(early.url);
    await db.redis.ping();
    finished = { handle: db, port: db.server.port };
  });
});

it('stops the server and its connection when the scope that started it ends', async () => {
  if (finished === undefined) throw new Error('the scoped test did not run');
  expect(() => finished?.handle.url).toThrow(/not running/);
  expect(await accepts(finished.port)).toBe(false);
});
