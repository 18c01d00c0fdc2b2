// EVALSHA with a fallback to EVAL on NOSCRIPT (first use, or after a restart flushed the script
// cache): saves resending script text on every hot-path call without mutating the caller's client.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

export async function runScript(redis: Redis, script: LuaScript, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
      return redis.eval(script.source, keys.length, ...keys, ...args);
    }
    throw error;
  }
}

/** runScript, with every bulk string of the reply as a Buffer (for values that are not text). */
export async function runScriptBuffer(redis: Redis, script: LuaScript, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<unknown> {
  try {
    return await redis.callBuffer('EVALSHA', [script.sha1, keys.length, ...keys, ...args]);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
      return redis.callBuffer('EVAL', [script.source, keys.length, ...keys, ...args]);
    }
    throw error;
  }
}
