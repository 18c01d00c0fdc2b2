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

type Eval = (scriptOrSha: string, numKeys: number, ...keysAndArgs: Array<string | Buffer>) => Promise<unknown>;

async function evalWithFallback(evalsha: Eval, evalSource: Eval, script: LuaScript, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<unknown> {
  try {
    return await evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
      return evalSource(script.source, keys.length, ...keys, ...args);
    }
    throw error;
  }
}

export async function runScript(redis: Redis, script: LuaScript, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<unknown> {
  return evalWithFallback(
    (sha, n, ...rest) => redis.evalsha(sha, n, ...rest),
    (source, n, ...rest) => redis.eval(source, n, ...rest),
    script,
    keys,
    args,
  );
}

/**
 * ioredis defines a Buffer variant of every command (`evalshaBuffer`: the reply's bulk strings as
 * Buffers) but does not declare this one. `callBuffer` would do, but loses the command's name
 * under auto-pipelining (ioredis 5-6), which the services turn on.
 */
interface BufferScripting {
  evalshaBuffer(...args: Array<string | Buffer | number>): Promise<unknown>;
  evalBuffer(...args: Array<string | Buffer | number>): Promise<unknown>;
}

function bufferScripting(redis: Redis): BufferScripting {
  const candidate: Partial<BufferScripting> = redis as Partial<BufferScripting>;
  const { evalshaBuffer, evalBuffer } = candidate;
  if (typeof evalshaBuffer !== 'function' || typeof evalBuffer !== 'function') throw new Error('this ioredis client has no evalshaBuffer/evalBuffer');
  return { evalshaBuffer: evalshaBuffer.bind(redis), evalBuffer: evalBuffer.bind(redis) };
}

/** runScript, with every bulk string of the reply as a Buffer (for values that are not text). */
export async function runScriptBuffer(redis: Redis, script: LuaScript, keys: readonly string[], args: readonly (string | Buffer)[]): Promise<unknown> {
  const scripting = bufferScripting(redis);
  return evalWithFallback(scripting.evalshaBuffer, scripting.evalBuffer, script, keys, args);
}
