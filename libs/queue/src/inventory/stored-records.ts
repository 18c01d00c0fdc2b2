// The certificates an issue result names (result v3, contracts/issue-job.ts), read back from the
// inventory: all of one job's in one round trip (a pipeline of one HMGET per name; the CA entries
// they refer to are read only the first time a process meets them). A name counts only while
// it still holds the serial the result named: a record replaced since (renewed, re-issued by a
// root rotation) or removed is reported as changed and never decoded, so a reader cannot hand
// out a certificate other than the one the ca-service answered with.
import type { Redis } from 'ioredis';
import type { CertificateRecord } from '../contracts/certificate-record.js';
import type { Keyspace } from '../keys.js';
import { RECORD_FIELDS, UnreadableRecordError, fieldsOf, type RecordFields } from './record-codec.js';

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
  const pipeline = redis.pipeline();
  for (const { commonName } of names) pipeline.hmgetBuffer(keys.cert(commonName), ...RECORD_FIELDS);
  const replies = (await pipeline.exec()) ?? [];
  const held = names.map((name, i): RecordFields => {
    const [error, value] = replies[i] ?? [new Error(`no reply for ${name.commonName}`), null];
    if (error) throw error;
    return fieldsOf(value);
  });
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
