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
    // Read, never written: a pooled draw is a view into the shared pool.
    const source = randomBytes(16);
    const first = (source[0] ?? 0) & 0x7f;
    let start = 0;
    if (first === 0) {
      start = 1;
      while (start < 16 && source[start] === 0) start++;
    }
    const length = 16 - start;
    if (length >= MIN_SERIAL_BYTES) {
      // The INTEGER written in place (tag, short length, magnitude), with the 0x00 DER needs when
      // the magnitude's top bit is set (only possible once leading zero bytes were skipped).
      const pad = start > 0 && ((source[start] ?? 0) & 0x80) !== 0 ? 1 : 0;
      const der = Buffer.allocUnsafe(2 + pad + length);
      der[0] = 0x02;
      der[1] = pad + length;
      if (pad === 1) der[2] = 0;
      source.copy(der, 2 + pad, start, 16);
      if (start === 0) der[2] = first;
      return { der, hex: der.toString('hex', 2 + pad) };
    }
  }
  throw new Error('the random source keeps returning serials below 64 bits; check the injected randomBytes');
}
