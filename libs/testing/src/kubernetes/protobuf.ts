// kubectl sends built-in objects (here: Secrets, from `kubectl create secret`) as Kubernetes
// protobuf: "k8s\0", then runtime.Unknown { typeMeta, raw, ... } with raw the object's message.
// This reads just enough of core/v1 Secret (generated.proto field numbers) to store it as JSON.
import { KubeApiError } from './status.js';
import type { KubeObject } from './types.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface Field {
  readonly number: number;
  /** Length-delimited payload, or undefined for a varint / fixed field. */
  readonly bytes: Buffer | undefined;
  readonly varint: number;
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const byte = buf[i] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  throw new Error('truncated varint');
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const key = readVarint(buf, at);
    const number = Math.floor(key.value / 8);
    const wire = key.value % 8;
    at = key.next;
    if (wire === 0) {
      const v = readVarint(buf, at);
      out.push({ number, bytes: undefined, varint: v.value });
      at = v.next;
    } else if (wire === 2) {
      const length = readVarint(buf, at);
      const end = length.next + length.value;
      if (end > buf.length) throw new Error('truncated field');
      out.push({ number, bytes: buf.subarray(length.next, end), varint: 0 });
      at = end;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

function text(field: Field | undefined): string | undefined {
  return field?.bytes?.toString('utf8');
}

/** A map<string, V> field: repeated entries { 1: key, 2: value }. */
function entries(all: readonly Field[], number: number): Array<[string, Buffer]> {
  return all
    .filter((f) => f.number === number && f.bytes !== undefined)
    .map((f) => {
      const entry = fields(f.bytes ?? Buffer.alloc(0));
      return [text(entry.find((e) => e.number === 1)) ?? '', entry.find((e) => e.number === 2)?.bytes ?? Buffer.alloc(0)];
    });
}

function stringMap(all: readonly Field[], number: number): Record<string, string> | undefined {
  const found = entries(all, number);
  return found.length === 0 ? undefined : Object.fromEntries(found.map(([k, v]) => [k, v.toString('utf8')]));
}

export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim() === 'application/vnd.kubernetes.protobuf';
}

/** A core/v1 Secret from its protobuf envelope, shaped as the JSON a client would have sent. */
export function decodeSecretProtobuf(body: Buffer): KubeObject {
  try {
    if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('missing the k8s protobuf prefix');
    const unknown = fields(body.subarray(4));
    const raw = unknown.find((f) => f.number === 2)?.bytes;
    if (raw === undefined) throw new Error('no object in the envelope');
    const secret = fields(raw);
    const meta = fields(secret.find((f) => f.number === 1)?.bytes ?? Buffer.alloc(0));
    const name = text(meta.find((f) => f.number === 1));
    const generateName = text(meta.find((f) => f.number === 2));
    const namespace = text(meta.find((f) => f.number === 3));
    const labels = stringMap(meta, 11);
    const annotations = stringMap(meta, 12);
    const data = entries(secret, 2);
    const stringData = stringMap(secret, 4);
    const type = text(secret.find((f) => f.number === 3));
    const immutable = secret.find((f) => f.number === 5);
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        ...(name === undefined ? {} : { name }),
        ...(generateName === undefined ? {} : { generateName }),
        ...(namespace === undefined ? {} : { namespace }),
        ...(labels === undefined ? {} : { labels }),
        ...(annotations === undefined ? {} : { annotations }),
      },
      ...(data.length === 0 ? {} : { data: Object.fromEntries(data.map(([k, v]) => [k, v.toString('base64')])) }),
      ...(stringData === undefined ? {} : { stringData }),
      ...(type === undefined ? {} : { type }),
      ...(immutable === undefined ? {} : { immutable: immutable.varint !== 0 }),
    };
  } catch (error) {
    throw new KubeApiError('BadRequest', `the body of the request was in an unknown format: ${error instanceof Error ? error.message : String(error)}`);
  }
}
