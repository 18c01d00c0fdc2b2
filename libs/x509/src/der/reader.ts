// A small, strict DER reader for the structures we parse (certificates, CSRs). It never trusts
// lengths: every read is bounds-checked and failures surface as DerError for callers to map.

export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface DerNode {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset one past the last content byte. */
  readonly end: number;
}

export function readNode(buf: Buffer, offset: number, limit: number = buf.length): DerNode {
  if (offset + 2 > limit) throw new DerError(`truncated DER at offset ${offset}`);
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high-tag-number form at offset ${offset} is not supported`);
  const first = buf[offset + 1] ?? 0;
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new DerError(`unsupported DER length form at offset ${offset}`);
    if (contentStart + count > limit) throw new DerError(`truncated DER length at offset ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[contentStart + i] ?? 0);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError(`DER value at offset ${offset} runs past its container`);
  return { tag, start: offset, contentStart, end };
}

/** The single top-level value of buf, which must fill it exactly. */
export function readRoot(buf: Buffer): DerNode {
  const node = readNode(buf, 0);
  if (node.end !== buf.length) throw new DerError('trailing bytes after the DER value');
  return node;
}

export function children(buf: Buffer, parent: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const node = readNode(buf, offset, parent.end);
    out.push(node);
    offset = node.end;
  }
  return out;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) throw new DerError(`${what} is missing`);
  if (node.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  }
  return node;
}

export function content(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.contentStart, node.end);
}

export function whole(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.start, node.end);
}

export function decodeOid(bytes: Buffer): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const [first = 0, ...rest] = arcs;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...rest].join('.');
}

/** Magnitude bytes of a non-negative INTEGER (sign padding removed); throws if negative. */
export function unsignedIntegerBytes(bytes: Buffer, what: string): Buffer {
  if (bytes.length === 0) throw new DerError(`${what}: empty INTEGER`);
  if ((bytes[0] ?? 0) & 0x80) throw new DerError(`${what} is negative`);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

export function decodeTime(buf: Buffer, node: DerNode, what: string): Date {
  const text = content(buf, node).toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (node.tag === 0x17) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (match === null) throw new DerError(`${what}: malformed UTCTime "${text}"`);
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === 0x18) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (match === null) throw new DerError(`${what}: malformed GeneralizedTime "${text}"`);
    year = Number(match[1]);
  } else {
    throw new DerError(`${what}: not a time value`);
  }
  const [, , mo, d, h, mi, s] = match;
  return new Date(Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}
