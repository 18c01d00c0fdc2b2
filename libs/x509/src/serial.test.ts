// Serial numbers are written in place from the random draw; these hold them to what the generic
// DER writer makes of the same bytes, and to leaving the (shared, pooled) draw untouched.
import { describe, expect, it } from 'vitest';
import { unsignedInteger } from './der/writer.js';
import { randomSerial } from './serial.js';

/** The serial as the generic writer encodes it: top bit cleared, leading zeros dropped, 0x00 when needed. */
function byWriter(draw: Buffer): { der: string; hex: string } | undefined {
  const bytes = Buffer.from(draw);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  const magnitude = bytes.subarray(start);
  return magnitude.length >= 8 ? { der: unsignedInteger(magnitude).toString('hex'), hex: magnitude.toString('hex') } : undefined;
}

describe('randomSerial', () => {
  it('encodes every draw as the generic DER writer does, leading zeros and high bits included, and leaves the draw as it was', () => {
    let seed = 7;
    const next = (): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed >>> 24;
    };
    for (let i = 0; i < 5_000; i++) {
      const draw = Buffer.from(Array.from({ length: 16 }, next));
      // Zero the front (0-8 bytes) and set the top bit after it, as only adversarial draws do.
      const zeros = i % 9;
      draw.fill(0, 0, zeros);
      if (i % 2 === 0 && zeros < 16) draw[zeros] = (draw[zeros] ?? 0) | 0x80;
      const before = Buffer.from(draw);
      const expected = byWriter(draw);
      if (expected === undefined) continue;
      const serial = randomSerial(() => draw);
      expect({ der: serial.der.toString('hex'), hex: serial.hex }).toEqual(expected);
      expect(draw.equals(before)).toBe(true);
    }
  });

  it('draws again while a draw leaves fewer than 64 bits', () => {
    const draws = [Buffer.alloc(16), Buffer.concat([Buffer.alloc(9), Buffer.alloc(7, 0xff)]), Buffer.concat([Buffer.alloc(8), Buffer.alloc(8, 0x81)])];
    const serial = randomSerial(() => draws.shift() ?? Buffer.alloc(16));
    expect(serial.hex).toBe('81'.repeat(8));
    expect(serial.der.toString('hex')).toBe(`020900${'81'.repeat(8)}`);
  });
});
