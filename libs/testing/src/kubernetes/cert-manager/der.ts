// Just enough DER for the emulated CA issuer: read a CSR's requested extensions and write a
// certificate with the usages / isCA a CertificateRequest asks for. Kept local to the fixture
// so the emulator does not depend on libs/x509's internals.

export interface DerNode {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export function readNode(buf: Buffer, offset: number, limit = buf.length): DerNode {
  const tag = buf[offset];
  const first = buf[offset + 1];
  if (tag === undefined || first === undefined) throw new Error('DER: truncated header');
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER: unsupported length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] ?? 0);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error('DER: length beyond the enclosing value');
  return { tag, start: offset, contentStart, end };
}

export function childrenOf(buf: Buffer, parent: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const node = readNode(buf, offset, parent.end);
    out.push(node);
    offset = node.end;
  }
  return out;
}

export function contentOf(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.contentStart, node.end);
}

export function wholeOf(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.start, node.end);
}

export function decodeOid(bytes: Buffer): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

export function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

export const sequence = (children: readonly Buffer[]): Buffer => tlv(0x30, Buffer.concat(children));
export const octetString = (content: Buffer): Buffer => tlv(0x04, content);
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 + n, inner);
export const DER_TRUE = Buffer.from([0x01, 0x01, 0xff]);
export const DER_NULL = Buffer.from([0x05, 0x00]);

export function encodeOid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes: number[] = [first * 40 + second];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** A positive INTEGER from a big-endian magnitude, minimal as DER requires. */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = ((trimmed[0] ?? 0) & 0x80) !== 0;
  return tlv(0x02, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** A BIT STRING holding the named bits (bit 0 = most significant bit), minimal as DER requires. */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return tlv(0x03, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)] = (bytes[Math.floor(bit / 8)] ?? 0) | (0x80 >> bit % 8);
  return tlv(0x03, Buffer.concat([Buffer.from([7 - (highest % 8)]), bytes]));
}

/** The bit numbers set in a BIT STRING's content (first byte = unused bit count). */
export function readNamedBits(content: Buffer): number[] {
  const bits: number[] = [];
  for (let i = 1; i < content.length; i++) {
    const byte = content[i] ?? 0;
    for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) bits.push((i - 1) * 8 + bit);
  }
  return bits;
}

/** UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}
