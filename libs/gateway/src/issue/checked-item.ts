// An issue item is checked against its job contract (issueItemSchema) once on its way to the
// queue: the batcher checks each request's item, and the issue client then skips the items it
// knows were checked (the very objects the check returned, which nothing mutates: the batcher
// and the client only read them). Items from elsewhere are still checked by the client.
//
// The check of an item of the everyday shape (a request or a rotation without CSR, serial guard
// or unknown fields, with or without the gateway's audit context) is written out by hand: it was a zod parse per request, more CPU than the
// rest of the item's journey through the gateway's code. Every other item goes through the
// schema, which decides and words the refusal; the hand check only ever says "plainly valid".
import type { z } from 'zod';
import { AUDIT_FIELD_LIMITS, AUDIT_ID_PATTERN, FIELD_LIMITS } from '@fsm-certs/api';
import { isKeyAlgorithm } from '@fsm-certs/core';
import { issueItemSchema, issueReasonSchema, type IssueItem } from '@fsm-certs/queue';

const checked = new WeakSet<IssueItem>();

export type ItemCheck = { readonly success: true; readonly data: IssueItem } | { readonly success: false; readonly error: z.ZodError };

/** issueItemSchema.safeParse, unless this very item already passed it. */
export function checkIssueItem(item: IssueItem): ItemCheck {
  if (checked.has(item)) return { success: true, data: item };
  if (isPlainIssueItem(item)) {
    checked.add(item);
    return { success: true, data: item };
  }
  const parsed = issueItemSchema.safeParse(item);
  if (!parsed.success) return { success: false, error: parsed.error };
  checked.add(parsed.data);
  return { success: true, data: parsed.data };
}

/** The fields of a plain item; an item with any other own field (csrPem, expectSerial, ...) goes to zod. */
const PLAIN_FIELDS: ReadonlySet<string> = new Set(['requestId', 'commonName', 'dnsNames', 'uris', 'ipAddresses', 'validityMs', 'keyAlgorithm', 'reason', 'audit']);
const AUDIT_FIELDS: ReadonlySet<string> = new Set(['id', 'operation', 'caller', 'clientAddress', 'requestId']);

function nullOrStringWithin(value: unknown, maxLength: number): boolean {
  return value === null || (typeof value === 'string' && value.length <= maxLength);
}

/** True only for an audit context issueAuditContextSchema accepts unchanged (the gateway's own, from Auditor.issueContext). */
function isPlainAuditContext(audit: unknown): boolean {
  if (audit === undefined) return true;
  if (typeof audit !== 'object' || audit === null || Object.getPrototypeOf(audit) !== Object.prototype) return false;
  for (const key in audit) if (!AUDIT_FIELDS.has(key)) return false;
  const { id, operation, caller, clientAddress, requestId } = audit as Record<string, unknown>;
  return (
    typeof id === 'string' &&
    AUDIT_ID_PATTERN.test(id) &&
    operation === 'issueCertificate' &&
    nullOrStringWithin(caller, AUDIT_FIELD_LIMITS.caller) &&
    nullOrStringWithin(clientAddress, AUDIT_FIELD_LIMITS.clientAddress) &&
    typeof requestId === 'string' &&
    requestId.length <= AUDIT_FIELD_LIMITS.requestId
  );
}
const REASONS: ReadonlySet<string> = new Set(issueReasonSchema.options);
/** Lower-case RFC 9562 UUIDs of versions 1-8 (randomUUID's): a subset of what z.uuid() accepts. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** With at most FIELD_LIMITS.dnsName characters, a subset of commonNameSchema (no whitespace, "/" or ":"): DNS characters only. */
const PLAIN_COMMON_NAME = /^[a-z0-9*_.-]+$/;

function stringsWithin(values: unknown, maxLength: number): boolean {
  if (!Array.isArray(values) || values.length > FIELD_LIMITS.sans) return false;
  for (const value of values) {
    if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) return false;
  }
  return true;
}

/**
 * True only for an item that issueItemSchema accepts and would return unchanged (a plain object
 * with no field the schema would strip); false says nothing, the schema then decides.
 */
export function isPlainIssueItem(item: IssueItem): boolean {
  if (Object.getPrototypeOf(item) !== Object.prototype) return false;
  for (const key in item) if (!PLAIN_FIELDS.has(key)) return false;
  const { requestId, commonName, dnsNames, uris, ipAddresses, validityMs, keyAlgorithm, reason, audit } = item;
  return (
    isPlainAuditContext(audit) &&
    typeof requestId === 'string' &&
    UUID.test(requestId) &&
    typeof commonName === 'string' &&
    commonName.length <= FIELD_LIMITS.dnsName &&
    PLAIN_COMMON_NAME.test(commonName) &&
    stringsWithin(dnsNames, FIELD_LIMITS.dnsName) &&
    stringsWithin(uris, FIELD_LIMITS.uri) &&
    stringsWithin(ipAddresses, FIELD_LIMITS.ipAddress) &&
    Number.isSafeInteger(validityMs) &&
    validityMs > 0 &&
    isKeyAlgorithm(keyAlgorithm) &&
    typeof reason === 'string' &&
    REASONS.has(reason)
  );
}
