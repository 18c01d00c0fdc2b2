// The certificates an issue result names (result v3, contracts/issue-job.ts), read back from the
// inventory: all of one job's in one round trip, one read-only script call (the CA entries they
// refer to are read only the first time a process meets them). A name counts only while it
// still holds the serial the result named: a record replaced since (renewed, re-issued by a root
// rotation) or removed is reported as changed, neither sent nor decoded, so a reader cannot hand
// out a certificate other than the one the ca-service answered with. One script call rather than
// a pipeline of one HMGET per name: the gateway's client sends and parses one command per job
// instead of one per certificate (result-read-bench.ts: 86 against 129 µs of the gateway's CPU
// per 7-item job, Redis 41.5 against 28).
import type { Redis } from 'ioredis';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import type { Keyspace } from '../keys.js';
import { luaScript, runScriptBuffer } from '../redis/run-script.js';
import { RECORD_FIELDS, UnreadableRecordError, fieldsOf, type RecordFields } from './record-codec.js';

/**
 * KEYS: the names' cert hashes. ARGV: the serial named for each. Returns per name RECORD_FIELDS'
 * four values: the whole hash's when it holds that serial; else only its serial (false when absent).
 */
const READ_STORED_SCRIPT = luaScript(`
local out = {}
for i = 1, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'record', 'previousSerial', 'serial', 'ca')
  if f[3] == ARGV[i] then
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
  else
    out[#out + 1] = false
    out[#out + 1] = false
  end
  out[#out + 1] = f[3]
  out[#out + 1] = f[4]
end
return out
`);

/** A stored certificate as an issue result names it: the name it is stored under and its serial. */
export interface StoredName {
  readonly commonName: string;
  readonly serialNumber: string;
}

export type StoredRead =
  /** The name still holds the named serial: its record. */
  | { readonly kind: 'stored'; readonly record: CertificateRecord }
  /** The name holds another serial now (`currentSerial`), or nothing (undefined). */
  | { readonly kind: 'changed'; readonly currentSerial: string | undefined }
  /** The name holds the named serial, but its record does not decode. */
  | { readonly kind: 'unreadable'; readonly error: UnreadableRecordError };

/** Decodes hashes as read (the inventory's decodeAll): per hash its record, undefined when absent, or why it does not decode. */
export type DecodeHashes = (read: ReadonlyArray<{ commonName: string; fields: RecordFields }>) => Promise<Array<CertificateRecord | UnreadableRecordError | undefined>>;

/** Per name, in order, what it holds now (see StoredRead); throws when Redis does not answer. */
export async function readStoredRecords(redis: Redis, keys: Keyspace, names: readonly StoredName[], decode: DecodeHashes): Promise<StoredRead[]> {
  if (names.length === 0) return [];
  const reply = await runScriptBuffer(redis, READ_STORED_SCRIPT, names.map((n) => keys.cert(n.commonName)), names.map((n) => n.serialNumber));
  const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
  const held = names.map((_, i): RecordFields => fieldsOf(flat.slice(i * RECORD_FIELDS.length, (i + 1) * RECORD_FIELDS.length)));
  const same: Array<{ commonName: string; fields: RecordFields }> = [];
  names.forEach((name, i) => {
    const fields = held[i];
    if (fields !== undefined && fields.serial === name.serialNumber) same.push({ commonName: name.commonName, fields });
  });
  const decoded = await decode(same);
  let next = 0;
  return names.map((name, i): StoredRead => {
    const serial = held[i]?.serial ?? null;
    if (serial !== name.serialNumber) return { kind: 'changed', currentSerial: serial ?? undefined };
    const value = decoded[next++];
    if (value instanceof UnreadableRecordError) return { kind: 'unreadable', error: value };
    // A hash with the serial but no record is not a certificate to answer with.
    if (value === undefined || value.serialNumber !== name.serialNumber) return { kind: 'changed', currentSerial: undefined };
    return { kind: 'stored', record: value };
  });
}
