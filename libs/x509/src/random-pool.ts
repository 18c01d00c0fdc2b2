// CSPRNG bytes for the hot path: one randomBytes call fills a pool that many small draws (serial
// numbers, AES-GCM IVs) are cut from — a separate randomBytes per draw was a measurable share of
// issuing and sealing. Every byte is handed out exactly once (offsets only advance; a new pool is
// drawn when one runs out), so draws are as unpredictable and as non-repeating as direct calls.
import { randomBytes } from 'node:crypto';

const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** Where the next `size` (at most POOL_SIZE) unused bytes of the pool start; a new pool when it runs out. */
function reserve(size: number): number {
  if (poolOffset + size > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += size;
  return at;
}

/** `size` fresh random bytes, a view into the pool (copy it before changing it). */
export function pooledRandomBytes(size: number): Buffer {
  if (size > POOL_SIZE) return randomBytes(size);
  const at = reserve(size);
  return pool.subarray(at, at + size);
}

/**
 * `bytes` (1-6) fresh random bytes from the pool as an unsigned big-endian integer, for a caller
 * that wants digits rather than bytes: no view object per draw. Another width is node's
 * ERR_OUT_OF_RANGE (readUIntBE's), before any byte is taken.
 */
export function pooledRandomUint(bytes: number): number {
  // Another width: readUIntBE refuses it (ERR_OUT_OF_RANGE) before any byte is reserved.
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 6) return pool.readUIntBE(0, bytes);
  const at = reserve(bytes); // first: it may replace the pool
  return pool.readUIntBE(at, bytes);
}
