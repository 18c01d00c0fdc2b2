// A deliberately tiny DER writer: just the encodings our certificates and CSRs use. Leaves are
// built on the hot path, so everything here is plain Buffer arithmetic, no generic ASN.1 model.

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Bytes a definite-length header takes: long form past 127 bytes, as DER requires. */
export function headerLength(length: number): number {
  if (length < 0x80) return 2;
  if (length < 0x100) return 3;
  if (length < 0x10000) return 4;
  if (length < 0x1000000) return 5;
  throw new RangeError(`DER length ${length} is larger than this writer supports`);
}

function writeHeader(out: Buffer, tag: number, length: number): number {
  out[0] = tag;
  if (length < 0x80) {
    out[1] = length;
    return 2;
  }
  const bytes = headerLength(length) - 2;
  out[1] = 0x80 | bytes;
  for (let i = 0; i < bytes; i++) out[2 + i] = (length >> (8 * (bytes - 1 - i))) & 0xff;
  return 2 + bytes;
}

/** Writes a tag and length at `offset` of `out`; returns the offset after them. */
export function writeHeaderAt(out: Buffer, offset: number, tag: number, length: number): number {
  out[offset] = tag;
  if (length < 0x80) {
    out[offset + 1] = length;
    return offset + 2;
  }
  const bytes = headerLength(length) - 2;
  out[offset + 1] = 0x80 | bytes;
  for (let i = 0; i < bytes; i++) out[offset + 2 + i] = (length >> (8 * (bytes - 1 - i))) & 0xff;
  return offset + 2 + bytes;
}

export function header(tag: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(headerLength(length));
  writeHeader(out, tag, length);
  return out;
}

/** One allocation per value: header and content written straight into the result. */
export function tlv(tag: number, content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(headerLength(content.length) + content.length);
  content.copy(out, writeHeader(out, tag, content.length));
  return out;
}

/** Constructed value from already-encoded children. */
export function constructed(tag: number, children: readonly Buffer[]): Buffer {
  let length = 0;
  for (const child of children) length += child.length;
  const out = Buffer.allocUnsafe(headerLength(length) + length);
  let offset = writeHeader(out, tag, length);
  for (const child of children) offset += child.copy(out, offset);
  return out;
}

export function sequence(children: readonly Buffer[]): Buffer {
  return constructed(TAG.SEQUENCE, children);
}

export function set(children: readonly Buffer[]): Buffer {
  return constructed(TAG.SET, children);
}

/** Context-specific tag [n]: constructed (explicit tagging) or primitive (implicit over a primitive). */
export function contextTag(n: number, isConstructed: boolean): number {
  return 0x80 | (isConstructed ? 0x20 : 0) | n;
}

/**
 * A non-negative INTEGER from big-endian magnitude bytes, minimally encoded: leading zero bytes
 * dropped, one 0x00 added back only when the high bit would otherwise make the value negative.
 */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const first = trimmed[0] ?? 0;
  const content = trimmed.length === 0 ? Buffer.from([0]) : first & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(TAG.INTEGER, content);
}

export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7f) throw new RangeError('smallInteger takes 0..127');
  return Buffer.from([TAG.INTEGER, 1, value]);
}

export function encodeOid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => Number.parseInt(p, 10));
  const [a = 0, b = 0, ...rest] = parts;
  const bytes: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const chunk: number[] = [arc & 0x7f];
    let v = Math.floor(arc / 128);
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(bytes));
}

export function utf8String(value: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(value, 'utf8'));
}

export function ia5String(value: string): Buffer {
  return tlv(TAG.IA5_STRING, Buffer.from(value, 'latin1'));
}

export function octetString(content: Buffer): Buffer {
  return tlv(TAG.OCTET_STRING, content);
}

/** BIT STRING with no unused bits (keys, signatures). */
export function bitString(content: Buffer): Buffer {
  return Buffer.concat([header(TAG.BIT_STRING, content.length + 1), Buffer.from([0]), content]);
}

export const DER_NULL: Buffer = Buffer.from([TAG.NULL, 0]);
export const DER_TRUE: Buffer = Buffer.from([TAG.BOOLEAN, 1, 0xff]);

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds, always Zulu. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const rest =
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds()) +
    'Z';
  if (year >= 1950 && year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(pad2(year % 100) + rest, 'latin1'));
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} cannot be encoded in a certificate`);
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(String(year).padStart(4, '0') + rest, 'latin1'));
}
