import { unsignedInteger } from './der/writer.js';
import { pooledRandomBytes } from './random-pool.js';

export type RandomBytes = (size: number) => Buffer;

export interface Serial {
  /** Complete DER INTEGER. */
  readonly der: Buffer;
  /** Lowercase hex of the value, no leading zero byte. */
  readonly hex: string;
}

const MIN_SERIAL_BYTES = 8;

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
