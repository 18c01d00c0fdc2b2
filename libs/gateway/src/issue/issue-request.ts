// POST /v1/certificates body: shape and syntax (the contract's issueRequestSchema, the schema the
// OpenAPI document publishes), then meaning (validity range, CSR signature, SPIFFE derivation),
// then authorisation. The result is the queue item the batcher sends. In CSR mode the identity
// comes from the authorised commonName/SANs; the CSR contributes only its (verified) public key.
import type { z } from 'zod';
import {
  DNS_NAME_PATTERN,
  FIELD_LIMITS,
  ISSUE_FIELD_PROBLEMS,
  IPV4_PATTERN,
  IPV6_PATTERN,
  URI_PATTERN,
  certificatePathSchema,
  issueRequestSchema,
  type IssueRequest,
  type ProblemCode,
} from '@fsm-certs/api';
import { DEFAULT_KEY_ALGORITHM, GO_DURATION_PATTERN, isFsmError, isKeyAlgorithm, parseDurationMs, type KeyAlgorithm } from '@fsm-certs/core';
import { buildSpiffeId, isX509Error } from '@fsm-certs/x509';
import { certificateNames, requireCoverage, requirePolicy } from '../auth/certificate-names.js';
import { defaultValidityFor } from '../auth/policy.js';
import type { Principal } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import { parseOr, zodDetail } from '../http/validate.js';
import type { IssueRequestItem } from './batcher.js';

export const MIN_VALIDITY_MS = 10 * 60 * 1000;
const MAX_VALIDITY_MS = 100 * 365 * 24 * 3600 * 1000;

export type IssueBody = IssueRequest;

/** What the CSR check reports; implemented over @fsm-certs/x509 (csr.ts), injectable for tests. */
export interface CsrCheck {
  /** Throws when the CSR does not parse or its self-signature does not verify. */
  verify(csrPem: string): { keyAlgorithm: KeyAlgorithm };
}

export interface IssueRequestContext {
  readonly principal: Principal;
  readonly defaultValidityMs: number;
  readonly trustDomain: string;
  readonly csrCheck: CsrCheck;
}

/** A wrong type or an unknown field is INVALID_BODY; a wrong value, its field's code. */
function codeFor(issue: z.core.$ZodIssue): ProblemCode {
  const field = issue.path[0];
  if (issue.code === 'invalid_type' || issue.code === 'unrecognized_keys' || typeof field !== 'string') return 'INVALID_BODY';
  return ISSUE_FIELD_PROBLEMS[field as keyof IssueRequest] ?? 'INVALID_BODY';
}

/** A DNS name or an IP address: the `sans` entries subjectAltNameSchema takes without further checks. */
function isPlainSan(value: unknown): value is string {
  return typeof value === 'string' && ((value.length <= FIELD_LIMITS.dnsName && DNS_NAME_PATTERN.test(value)) || IPV4_PATTERN.test(value) || IPV6_PATTERN.test(value));
}

function isPlainSans(value: unknown): value is string[] {
  if (!Array.isArray(value) || value.length > FIELD_LIMITS.sans) return false;
  for (const san of value) if (!isPlainSan(san)) return false;
  return true;
}

/**
 * The body as issueRequestSchema would return it, when it is plainly valid: a plain object of
 * commonName, and optionally DNS or IP `sans`, validity and keyAlgorithm, each passing the very
 * checks the schema makes. Undefined for every other body (URI SANs, csr, spiffe, unknown fields,
 * anything wrong), which the schema then decides and words: the hand check never refuses.
 */
export function plainIssueBody(body: unknown): IssueBody | undefined {
  if (typeof body !== 'object' || body === null || Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const fields = body as Readonly<Record<string, unknown>>;
  for (const key in fields) {
    if (key !== 'commonName' && key !== 'sans' && key !== 'validity' && key !== 'keyAlgorithm') return undefined;
  }
  const { commonName, sans, validity, keyAlgorithm } = fields;
  if (typeof commonName !== 'string' || commonName.length > FIELD_LIMITS.dnsName || !DNS_NAME_PATTERN.test(commonName)) return undefined;
  const out: IssueBody = { commonName };
  if (sans !== undefined) {
    if (!isPlainSans(sans)) return undefined;
    out.sans = sans;
  }
  if (validity !== undefined) {
    if (typeof validity !== 'string' || validity.length > FIELD_LIMITS.validity || !GO_DURATION_PATTERN.test(validity)) return undefined;
    out.validity = validity;
  }
  if (keyAlgorithm !== undefined) {
    if (!isKeyAlgorithm(keyAlgorithm)) return undefined;
    out.keyAlgorithm = keyAlgorithm;
  }
  return out;
}

export function parseIssueBody(body: unknown): IssueBody {
  const plain = plainIssueBody(body);
  if (plain !== undefined) return plain;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError('INVALID_BODY', 'Send a JSON object with at least "commonName" (Content-Type: application/json).');
  }
  const parsed = issueRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const codes = new Set(parsed.error.issues.map(codeFor));
  const [only] = codes;
  throw new GatewayError(codes.size === 1 && only !== undefined ? only : 'INVALID_BODY', `Invalid request: ${zodDetail(parsed.error)}.`, { cause: parsed.error });
}

/**
 * Validities accepted before, by their text: clients ask for the same few ("24h") on every
 * request. Only accepted ones are kept, so a refusal is always worded afresh; bounded, cleared
 * when full.
 */
const acceptedValidities = new Map<string, number>();
const ACCEPTED_VALIDITIES_LIMIT = 64;

export function parseValidity(text: string | undefined, defaultMs: number): number {
  if (text === undefined) return defaultMs;
  const known = acceptedValidities.get(text);
  if (known !== undefined) return known;
  const ms = parseNewValidity(text);
  if (acceptedValidities.size >= ACCEPTED_VALIDITIES_LIMIT) acceptedValidities.clear();
  acceptedValidities.set(text, ms);
  return ms;
}

function parseNewValidity(text: string): number {
  let ms: number;
  try {
    ms = parseDurationMs(text);
  } catch (error) {
    const detail = isFsmError(error) ? error.message : `"${text}" is not a Go duration`;
    throw new GatewayError('INVALID_DURATION', `${detail}.`, { cause: error });
  }
  if (ms < MIN_VALIDITY_MS) {
    throw new GatewayError('INVALID_DURATION', `validity "${text}" is shorter than the minimum of 10m; ask for at least "10m".`);
  }
  if (ms > MAX_VALIDITY_MS) throw new GatewayError('INVALID_DURATION', `validity "${text}" is longer than 100 years; ask for less.`);
  return ms;
}

/** A common name from a path: the contract's DNS name, lower-cased. */
export function normaliseCommonName(name: string): string {
  return parseOr(certificatePathSchema.shape.cn, name, 'INVALID_NAME', 'common name').toLowerCase();
}

interface SortedSans {
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
}

/** Sorts SANs the schema accepted: an IP literal, else a URI (has "scheme:"), else a DNS name. */
export function classifySans(sans: readonly string[]): SortedSans {
  const out: SortedSans = { dnsNames: [], uris: [], ipAddresses: [] };
  for (const san of sans) {
    if (IPV4_PATTERN.test(san) || IPV6_PATTERN.test(san)) out.ipAddresses.push(san);
    else if (URI_PATTERN.test(san)) out.uris.push(san);
    else out.dnsNames.push(san.toLowerCase());
  }
  return out;
}

export function spiffeIdFor(spiffe: IssueBody['spiffe'], commonName: string, trustDomain: string): string | undefined {
  if (spiffe === undefined || spiffe === false) return undefined;
  let namespace: string;
  let serviceAccount: string;
  if (spiffe === true) {
    const suffix = `.${trustDomain}`;
    const head = commonName.endsWith(suffix) ? commonName.slice(0, -suffix.length) : '';
    const labels = head.split('.');
    if (labels.length !== 2 || labels.some((l) => l === '')) {
      throw new GatewayError(
        'INVALID_SPIFFE',
        `spiffe: true needs a commonName of the form <serviceAccount>.<namespace>.${trustDomain}; pass {"namespace", "serviceAccount"} instead.`,
      );
    }
    [serviceAccount = '', namespace = ''] = labels;
  } else {
    ({ namespace, serviceAccount } = spiffe);
  }
  try {
    return buildSpiffeId(trustDomain, namespace, serviceAccount);
  } catch (error) {
    throw new GatewayError('INVALID_SPIFFE', isX509Error(error) ? `${error.message}.` : 'Invalid SPIFFE identity.', { cause: error });
  }
}

/** The values without repeats; a list of fewer than two is returned as it is (no Set, no copy). */
function dedupe(values: string[]): string[] {
  return values.length < 2 ? values : [...new Set(values)];
}

/** Validates and authorises a POST /v1/certificates body into a queue item (reason `request`). */
export function buildIssueItem(body: unknown, ctx: IssueRequestContext): IssueRequestItem {
  const parsed = parseIssueBody(body);
  const commonName = parsed.commonName.toLowerCase();
  const sans = classifySans(parsed.sans ?? []);
  const validityMs = parseValidity(parsed.validity, defaultValidityFor(ctx.principal.policy, ctx.defaultValidityMs));
  const spiffeId = spiffeIdFor(parsed.spiffe, commonName, ctx.trustDomain);

  const identity = {
    commonName,
    dnsNames: dedupe(sans.dnsNames.length === 0 ? sans.dnsNames : sans.dnsNames.filter((n) => n !== commonName)),
    uris: dedupe(spiffeId === undefined ? sans.uris : [spiffeId, ...sans.uris]),
    ipAddresses: dedupe(sans.ipAddresses),
  };
  // Authorised on exactly what the certificate will carry, SPIFFE id included, before any
  // costly CSR check.
  requireCoverage(ctx.principal, certificateNames(identity), ctx.trustDomain, 'request');

  let keyAlgorithm: KeyAlgorithm = parsed.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
  let csrPem: string | undefined;
  if (parsed.csr !== undefined) {
    let checked: { keyAlgorithm: KeyAlgorithm };
    try {
      checked = ctx.csrCheck.verify(parsed.csr);
    } catch (error) {
      throw new GatewayError('INVALID_CSR', `The CSR was rejected: ${isX509Error(error) ? error.message : 'it does not parse or its signature does not verify'}.`, {
        cause: error,
      });
    }
    if (parsed.keyAlgorithm !== undefined && parsed.keyAlgorithm !== checked.keyAlgorithm) {
      throw new GatewayError('INVALID_CSR', `keyAlgorithm "${parsed.keyAlgorithm}" does not match the CSR's key (${checked.keyAlgorithm}); omit keyAlgorithm in CSR mode.`);
    }
    keyAlgorithm = checked.keyAlgorithm;
    csrPem = parsed.csr;
  }

  const base: IssueRequestItem = {
    commonName,
    dnsNames: identity.dnsNames,
    uris: identity.uris,
    ipAddresses: identity.ipAddresses,
    validityMs,
    keyAlgorithm,
    reason: 'request',
  };
  const item = csrPem === undefined ? base : { ...base, csrPem };
  requirePolicy(ctx.principal, item);
  return item;
}
