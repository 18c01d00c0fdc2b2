// The check every audit record passes before it is stored (AuditLog.appendMany, the ca-service's
// commit). A record of the everyday shape (what certificateAuditRecord, AuditLog.caRecord and the
// gateway's Auditor build: the contract's fields in the contract's order, nothing else) is checked
// by hand, with the contract's own bounds and patterns: it was a zod parse per certificate. Every
// other record goes through the schema, which decides and words the refusal; the hand check only
// ever says "plainly valid", and only for a record whose JSON is the JSON of what the schema
// returns (so what is stored is byte for byte what it was).
import { regexes, type z } from 'zod';
import { AUDIT_FIELD_LIMITS, AUDIT_ID_PATTERN, AUDIT_OUTCOMES, SERIAL_NUMBER_PATTERN, auditRecordSchema, type AuditRecord } from '@fsm-certs/api';
import { isKeyAlgorithm } from '@fsm-certs/core';

export type AuditRecordCheck = { readonly success: true; readonly data: AuditRecord } | { readonly success: false; readonly error: z.ZodError };

/** The schema's fields in its order: the order JSON.stringify writes what it returns. */
const FIELDS: readonly string[] = Object.keys(auditRecordSchema.shape);
const OUTCOMES: ReadonlySet<unknown> = new Set(AUDIT_OUTCOMES);
const PROVIDERS: ReadonlySet<unknown> = new Set(auditRecordSchema.shape.provider.unwrap().options);
/** The very pattern of the contract's isoDateTimeSchema (z.iso.datetime({ offset: true })). */
const DATE_TIME = regexes.datetime({ offset: true });

function nullOrString(value: unknown, maxLength: number): boolean {
  return value === null || (typeof value === 'string' && value.length <= maxLength);
}

function nullOrDateTime(value: unknown): boolean {
  return value === null || (typeof value === 'string' && DATE_TIME.test(value));
}

function isPlainNames(value: unknown): boolean {
  if (!Array.isArray(value) || value.length > 200) return false;
  for (const name of value) if (typeof name !== 'string' || name.length > 2048) return false;
  return true;
}

/**
 * True only for a record auditRecordSchema accepts and returns with the same fields in the same
 * order (a plain object holding exactly the schema's fields, in its order); false says nothing.
 */
export function isPlainAuditRecord(record: unknown): record is AuditRecord {
  if (typeof record !== 'object' || record === null || Object.getPrototypeOf(record) !== Object.prototype) return false;
  let i = 0;
  for (const key in record) if (key !== FIELDS[i++]) return false;
  if (i !== FIELDS.length) return false;
  const r = record as Readonly<Record<string, unknown>>;
  const { status, serialNumber, keyAlgorithm } = r;
  return (
    typeof r['id'] === 'string' &&
    AUDIT_ID_PATTERN.test(r['id']) &&
    typeof r['at'] === 'string' &&
    DATE_TIME.test(r['at']) &&
    OUTCOMES.has(r['outcome']) &&
    typeof r['operation'] === 'string' &&
    r['operation'].length <= 64 &&
    nullOrString(r['caller'], AUDIT_FIELD_LIMITS.caller) &&
    nullOrString(r['clientAddress'], AUDIT_FIELD_LIMITS.clientAddress) &&
    nullOrString(r['requestId'], AUDIT_FIELD_LIMITS.requestId) &&
    nullOrString(r['commonName'], 253) &&
    isPlainNames(r['names']) &&
    (serialNumber === null || (typeof serialNumber === 'string' && SERIAL_NUMBER_PATTERN.test(serialNumber))) &&
    nullOrDateTime(r['notBefore']) &&
    nullOrDateTime(r['notAfter']) &&
    (keyAlgorithm === null || isKeyAlgorithm(keyAlgorithm)) &&
    (r['provider'] === null || PROVIDERS.has(r['provider'])) &&
    nullOrString(r['issuerId'], 128) &&
    nullOrString(r['code'], 64) &&
    (status === null || (Number.isInteger(status) && typeof status === 'number' && status >= 100 && status <= 599))
  );
}

/** auditRecordSchema.safeParse, without zod for a record of the everyday shape. */
export function checkAuditRecord(record: unknown): AuditRecordCheck {
  if (isPlainAuditRecord(record)) return { success: true, data: record };
  const parsed = auditRecordSchema.safeParse(record);
  return parsed.success ? { success: true, data: parsed.data } : { success: false, error: parsed.error };
}
