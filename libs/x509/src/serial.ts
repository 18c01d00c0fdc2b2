import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { unsignedInteger } from './der/writer.js';

export type RandomBytes = (size: number) => Buffer;

export interface Serial {
  /** Complete DER INTEGER. */
  readonly der: Buffer;
  /** Lowercase hex of the value, no leading zero byte. */
  readonly hex: string;
}

const MIN_SERIAL_BYTES = 8;
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/**
 * CSPRNG bytes drawn from a pooled buffer: one randomBytes call per 256 serials instead of one
 * per serial (a measurable share of a ~100 µs leaf). Every byte is handed out exactly once.
 */
function pooledRandomBytes(size: number): Buffer {
  if (size > POOL_SIZE) return nodeRandomBytes(size);
  if (poolOffset + size > pool.length) {
    pool = nodeRandomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + size);
  poolOffset += size;
  return out;
}

/**
 * 16 random bytes with the top bit cleared (so the INTEGER is positive without padding), then
 * minimally encoded. Values under 64 bits (astronomically rare) are redrawn, so the CA/B
 * Forum's 64-bit entropy rule holds for every certificate.
 */
export function randomSerial(randomBytes: RandomBytes = pooledRandomBytes): Serial {
  for (let attempt = 0; attempt < 16; attempt++) {
    const bytes = Buffer.from(randomBytes(16));
    bytes[0] = (bytes[0] ?? 0) & 0x7f;
    let start = 0;
    while (start < bytes.length && bytes[start] === 0) start++;
    const magnitude = bytes.subarray(start);
    if (magnitude.length >= MIN_SERIAL_BYTES) {
      return { der: unsignedInteger(magnitude), hex: magnitude.toString('hex') };
    }
  }
  throw new Error('the random source keeps returning serials below 64 bits; check the injected randomBytes');
}
