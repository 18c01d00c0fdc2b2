// A job result read from the `completed` event is checked against its contract
// (issueJobResultSchema) before anything of it reaches a caller. For the result of the everyday
// shape (every record as this project's ca-service writes it) that check is written out by hand:
// the zod parse of every record of every result was ~3% of the gateway's CPU under load. Any
// other result goes through the schema, which decides and words the refusal; the hand check only
// ever says "plainly valid", for a result the schema accepts and would return unchanged (no field
// it would strip or convert).
import { FIELD_LIMITS, SERIAL_NUMBER_PATTERN } from '@fsm-certs/api';
import { plainlyValidRecord, type IssueJobResult } from '@fsm-certs/queue';

const OK_FIELDS_V1: ReadonlySet<string> = new Set(['requestId', 'ok', 'certificate', 'auditId']);
const OK_FIELDS_V2: ReadonlySet<string> = new Set(['requestId', 'ok', 'certificate', 'trustBundleDigest', 'auditId']);
const OK_FIELDS_V3: ReadonlySet<string> = new Set(['requestId', 'ok', 'commonName', 'serialNumber', 'auditId']);
const FAILED_FIELDS: ReadonlySet<string> = new Set(['requestId', 'ok', 'error']);
const ERROR_FIELDS: ReadonlySet<string> = new Set(['code', 'message', 'httpStatus', 'retryable']);
const RESULT_FIELDS: ReadonlySet<string> = new Set(['version', 'results']);

/** Lower-case RFC 9562 UUIDs of versions 1-8 (the gateway's randomUUID): a subset of what z.uuid() accepts. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** A subset of commonNameSchema (no whitespace, "/" or ":"): DNS characters only. */
const PLAIN_COMMON_NAME = /^[a-z0-9*_.-]+$/;
const DIGEST = /^[0-9a-f]{64}$/;

type Fields = Record<string, unknown>;

/** A plain object (JSON.parse's) with no own field outside `allowed`. */
function plainWithin(value: unknown, allowed: ReadonlySet<string>): value is Fields {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

function isString(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

/**
 * A record as the inventory's own shortcut takes it (plainlyValidRecord, the compact form for v2),
 * of JSON.parse's plain objects, whose common name is in the DNS-character subset.
 */
function isPlainRecord(value: unknown, compact: boolean): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const commonName = (value as Fields)['commonName'];
  return typeof commonName === 'string' && PLAIN_COMMON_NAME.test(commonName) && plainlyValidRecord(value, { caPemsOptional: compact });
}

function isPlainJobError(value: unknown): boolean {
  if (!plainWithin(value, ERROR_FIELDS)) return false;
  const { code, message, httpStatus, retryable } = value;
  return isString(code, 1, Number.MAX_SAFE_INTEGER) && typeof message === 'string' && Number.isSafeInteger(httpStatus) && (httpStatus as number) >= 400 && (httpStatus as number) <= 599 && typeof retryable === 'boolean';
}

/** A v3 item's name of its stored certificate: a common name in the DNS-character subset and a serial. */
function isPlainStoredName(value: Fields): boolean {
  const { commonName, serialNumber } = value;
  return (
    typeof commonName === 'string' &&
    commonName.length >= 1 &&
    commonName.length <= FIELD_LIMITS.dnsName &&
    PLAIN_COMMON_NAME.test(commonName) &&
    typeof serialNumber === 'string' &&
    SERIAL_NUMBER_PATTERN.test(serialNumber)
  );
}

function isPlainItemResult(value: unknown, version: 1 | 2 | 3): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const ok = (value as Fields)['ok'];
  if (ok === false) {
    if (!plainWithin(value, FAILED_FIELDS)) return false;
    return typeof value['requestId'] === 'string' && UUID.test(value['requestId']) && isPlainJobError(value['error']);
  }
  if (version === 3) {
    if (ok !== true || !plainWithin(value, OK_FIELDS_V3)) return false;
    return typeof value['requestId'] === 'string' && UUID.test(value['requestId']) && (value['auditId'] === undefined || typeof value['auditId'] === 'string') && isPlainStoredName(value);
  }
  if (ok !== true || !plainWithin(value, version === 1 ? OK_FIELDS_V1 : OK_FIELDS_V2)) return false;
  const digest = value['trustBundleDigest'];
  return (
    typeof value['requestId'] === 'string' &&
    UUID.test(value['requestId']) &&
    (value['auditId'] === undefined || typeof value['auditId'] === 'string') &&
    (digest === undefined || (typeof digest === 'string' && DIGEST.test(digest))) &&
    isPlainRecord(value['certificate'], version === 2)
  );
}

/**
 * True only for a result issueJobResultSchema accepts and would return unchanged; false says
 * nothing, the schema then decides.
 */
export function isPlainIssueJobResult(value: unknown): value is IssueJobResult {
  if (!plainWithin(value, RESULT_FIELDS)) return false;
  const { version, results } = value;
  if ((version !== 1 && version !== 2 && version !== 3) || !Array.isArray(results)) return false;
  for (const result of results) if (!isPlainItemResult(result, version)) return false;
  return true;
}
