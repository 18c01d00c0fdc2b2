// CSPRNG bytes for the hot path: one randomBytes call fills a pool that many small draws (serial
// numbers, AES-GCM IVs) are cut from — a separate randomBytes per draw was a measurable share of
// issuing and sealing. Every byte is handed out exactly once (offsets only advance; a new pool is
// drawn when one runs out), so draws are as unpredictable and as non-repeating as direct calls.
import { randomBytes } from 'node:crypto';

const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** `size` fresh random bytes, a view into the pool (copy it before changing it). */
export function pooledRandomBytes(size: number): Buffer {
  if (size > POOL_SIZE) return randomBytes(size);
  if (poolOffset + size > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + size);
  poolOffset += size;
  return out;
}

/**
 * `bytes` (1-6) fresh random bytes from the pool as an unsigned big-endian integer, for a caller
 * that wants digits rather than bytes: no view object per draw. Another width is node's
 * ERR_OUT_OF_RANGE (readUIntBE's), before any byte is taken.
 */
export function pooledRandomUint(bytes: number): number {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const out = pool.readUIntBE(poolOffset, bytes);
  poolOffset += bytes;
  return out;
}
