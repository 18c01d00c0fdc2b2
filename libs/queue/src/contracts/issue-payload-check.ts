// The ca-service's check of an `issue` job's payload. For the payload of the everyday shape (what
// the gateway and the rotation-worker build: plain objects holding only the contract's fields)
// that check is written out by hand with the contract's own bounds and patterns: the zod parse
// was ~2.2 KB of garbage per certificate in the ca-service. Any other payload goes through
// issueJobPayloadSchema, which decides and words the refusal; the hand check only ever says
// "plainly valid", and only for a payload the schema accepts and would return with the same
// fields and values (no field it would strip or convert).
import { regexes } from 'zod';
import { AUDIT_FIELD_LIMITS, AUDIT_ID_PATTERN, FIELD_LIMITS, SERIAL_NUMBER_PATTERN } from '@fsm-certs/api';
import { isKeyAlgorithm } from '@fsm-certs/core';
import { MAX_PEM_CHARS, PLAIN_COMMON_NAME, issueReasonSchema } from './common.js';
import { MAX_ISSUE_BATCH, issueJobPayloadSchema, type IssueJobPayload } from './issue-job.js';
import { parseJobPayload } from './parse.js';

const PAYLOAD_FIELDS: ReadonlySet<string> = new Set(Object.keys(issueJobPayloadSchema.shape));
const ITEM_FIELDS: ReadonlySet<string> = new Set(Object.keys(issueJobPayloadSchema.shape.requests.element.shape));
const AUDIT_FIELDS: ReadonlySet<string> = new Set(Object.keys(issueJobPayloadSchema.shape.requests.element.shape.audit.unwrap().shape));
const REASONS: ReadonlySet<unknown> = new Set(issueReasonSchema.options);
/** The very pattern of z.uuid(). */
const UUID = regexes.uuid();

type Fields = Readonly<Record<string, unknown>>;

/** A plain object (JSON.parse's) with no own field outside `allowed` and none set to undefined. */
function plainWithin(value: unknown, allowed: ReadonlySet<string>): value is Fields {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (!allowed.has(key) || (value as Fields)[key] === undefined) return false;
  return true;
}

function isString(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

function nullOrString(value: unknown, max: number): boolean {
  return value === null || isString(value, 0, max);
}

function isNames(value: unknown, maxLength: number): boolean {
  if (!Array.isArray(value) || value.length > FIELD_LIMITS.sans) return false;
  // An index loop, not for..of: a hole reads as undefined and fails the check as the schema would.
  for (let i = 0; i < value.length; i += 1) if (!isString(value[i], 1, maxLength)) return false;
  return true;
}

function isPlainAudit(value: unknown): boolean {
  if (!plainWithin(value, AUDIT_FIELDS)) return false;
  const { id, operation, caller, clientAddress, requestId } = value;
  return (
    typeof id === 'string' &&
    AUDIT_ID_PATTERN.test(id) &&
    operation === 'issueCertificate' &&
    nullOrString(caller, AUDIT_FIELD_LIMITS.caller) &&
    nullOrString(clientAddress, AUDIT_FIELD_LIMITS.clientAddress) &&
    isString(requestId, 0, AUDIT_FIELD_LIMITS.requestId)
  );
}

function isPlainItem(value: unknown): boolean {
  if (!plainWithin(value, ITEM_FIELDS)) return false;
  const { requestId, commonName, validityMs, csrPem, expectSerial, audit } = value;
  return (
    typeof requestId === 'string' &&
    UUID.test(requestId) &&
    isString(commonName, 1, FIELD_LIMITS.dnsName) &&
    PLAIN_COMMON_NAME.test(commonName) &&
    isNames(value['dnsNames'], FIELD_LIMITS.dnsName) &&
    isNames(value['uris'], FIELD_LIMITS.uri) &&
    isNames(value['ipAddresses'], FIELD_LIMITS.ipAddress) &&
    Number.isSafeInteger(validityMs) &&
    (validityMs as number) > 0 &&
    isKeyAlgorithm(value['keyAlgorithm']) &&
    REASONS.has(value['reason']) &&
    (csrPem === undefined || isString(csrPem, 1, MAX_PEM_CHARS)) &&
    (expectSerial === undefined || (typeof expectSerial === 'string' && SERIAL_NUMBER_PATTERN.test(expectSerial))) &&
    (audit === undefined || isPlainAudit(audit))
  );
}

/**
 * True only for a payload issueJobPayloadSchema accepts and returns with the same fields and
 * values; false says nothing, the schema then decides.
 */
export function isPlainIssueJobPayload(data: unknown): data is IssueJobPayload {
  if (!plainWithin(data, PAYLOAD_FIELDS)) return false;
  const { version, requests, resultVersion, maxResultVersion } = data;
  if (version !== 1 || (resultVersion !== undefined && resultVersion !== 2)) return false;
  if (maxResultVersion !== undefined && !(Number.isSafeInteger(maxResultVersion) && (maxResultVersion as number) > 0)) return false;
  if (!Array.isArray(requests) || requests.length < 1 || requests.length > MAX_ISSUE_BATCH) return false;
  for (let i = 0; i < requests.length; i += 1) if (!isPlainItem(requests[i])) return false;
  return true;
}

/** parseJobPayload(issueJobPayloadSchema, data), without zod for a payload of the everyday shape. */
export function parseIssueJobPayload(data: unknown): IssueJobPayload {
  return isPlainIssueJobPayload(data) ? data : parseJobPayload(issueJobPayloadSchema, data);
}
