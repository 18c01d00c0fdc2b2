// Random (version 4) UUIDs for the ids minted per request, item and job on the issue path. As
// crypto.randomUUID: 122 bits from the CSPRNG, drawn in a pooled block of 128 ids; unlike it, the
// text is written as bytes and read once, so each id is one flat 36-character string instead of
// node's chain of ~16 concatenations: 57 bytes allocated per id against ~590, and less CPU
// (tools/bench/src/uuid-bench.ts).
import { randomFillSync } from 'node:crypto';

const IDS_PER_FILL = 128;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes' two hex digits go in `8-4-4-4-12`. */
const DIGIT_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34] as const;

const pool = Buffer.alloc(16 * IDS_PER_FILL);
let next = pool.length;
const text = Buffer.from('00000000-0000-4000-8000-000000000000', 'latin1');

/** A fresh lower-case RFC 9562 version 4 UUID (the form crypto.randomUUID returns). */
export function randomUuid(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  for (let i = 0; i < 16; i += 1) {
    let byte = pool[next + i] ?? 0;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10
    const at = DIGIT_AT[i] ?? 0;
    text[at] = HEX[byte >> 4] ?? 0;
    text[at + 1] = HEX[byte & 0x0f] ?? 0;
  }
  next += 16;
  return text.toString('latin1');
}
