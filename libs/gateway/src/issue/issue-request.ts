// POST /v1/certificates body: shape (zod), then meaning (names, duration, CSR, SPIFFE), then
// authorisation. The result is the queue item the batcher sends. In CSR mode the identity comes
// from the authorised commonName/SANs; the CSR contributes only its (verified) public key.
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_KEY_ALGORITHM, isFsmError, parseDurationMs, type KeyAlgorithm } from '@fsm-certs/core';
import { keyAlgorithmSchema } from '@fsm-certs/queue';
import { buildSpiffeId, isValidDnsName, isX509Error } from '@fsm-certs/x509';
import { requireName, type Principal } from '../auth/tokens.js';
import { GatewayError } from '../errors.js';
import type { IssueRequestItem } from './batcher.js';

export const MIN_VALIDITY_MS = 10 * 60 * 1000;
const MAX_VALIDITY_MS = 100 * 365 * 24 * 3600 * 1000;

export const issueBodySchema = z
  .object({
    commonName: z.string().min(1).max(253),
    sans: z.array(z.string().min(1).max(2048)).max(100).optional(),
    validity: z.string().min(1).max(64).optional(),
    keyAlgorithm: keyAlgorithmSchema.optional(),
    csr: z.string().min(1).max(32 * 1024).optional(),
    spiffe: z
      .union([z.boolean(), z.object({ namespace: z.string().min(1).max(253), serviceAccount: z.string().min(1).max(253) }).strict()])
      .optional(),
  })
  .strict();
export type IssueBody = z.infer<typeof issueBodySchema>;

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

function zodDetail(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`)
    .join('; ');
}

export function parseIssueBody(body: unknown): IssueBody {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw new GatewayError('INVALID_BODY', 'Send a JSON object with at least "commonName" (Content-Type: application/json).');
  }
  const parsed = issueBodySchema.safeParse(body);
  if (!parsed.success) {
    const onName = parsed.error.issues.every((i) => i.path[0] === 'commonName');
    throw new GatewayError(onName ? 'INVALID_NAME' : 'INVALID_BODY', `Invalid request: ${zodDetail(parsed.error)}.`, { cause: parsed.error });
  }
  return parsed.data;
}

export function parseValidity(text: string | undefined, defaultMs: number): number {
  if (text === undefined) return defaultMs;
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

export function normaliseCommonName(name: string): string {
  const cn = name.trim().toLowerCase();
  if (!isValidDnsName(cn)) {
    throw new GatewayError('INVALID_NAME', `commonName "${name}" is not a DNS name (RFC 1123 labels of letters, digits and "-", at most 253 characters).`);
  }
  return cn;
}

interface SortedSans {
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
}

/** A SAN is an IP literal, a URI (has "scheme:"), or a DNS name. */
export function classifySans(sans: readonly string[]): SortedSans {
  const out: SortedSans = { dnsNames: [], uris: [], ipAddresses: [] };
  for (const raw of sans) {
    const san = raw.trim();
    if (isIP(san) !== 0) out.ipAddresses.push(san);
    else if (/^[a-z][a-z0-9+.-]*:/i.test(san)) {
      if (!URL.canParse(san) || !/^[\x21-\x7e]+$/.test(san)) throw new GatewayError('INVALID_NAME', `SAN "${san}" is not a valid absolute URI.`);
      out.uris.push(san);
    } else {
      const dns = san.toLowerCase();
      if (!isValidDnsName(dns)) throw new GatewayError('INVALID_NAME', `SAN "${san}" is neither a DNS name, an IP address nor a URI.`);
      out.dnsNames.push(dns);
    }
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

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Validates and authorises a POST /v1/certificates body into a queue item (reason `request`). */
export function buildIssueItem(body: unknown, ctx: IssueRequestContext): IssueRequestItem {
  const parsed = parseIssueBody(body);
  const commonName = normaliseCommonName(parsed.commonName);
  const sans = classifySans(parsed.sans ?? []);
  const validityMs = parseValidity(parsed.validity, ctx.defaultValidityMs);
  const spiffeId = spiffeIdFor(parsed.spiffe, commonName, ctx.trustDomain);

  // Authorise every DNS identity; IP and URI SANs cannot be matched by name patterns, so only
  // an unrestricted token may ask for them (SPIFFE ids derived here are covered by the CN).
  requireName(ctx.principal, commonName);
  for (const dns of sans.dnsNames) requireName(ctx.principal, dns);
  if ((sans.ipAddresses.length > 0 || sans.uris.length > 0) && !ctx.principal.names.unrestricted) {
    throw new GatewayError('NAME_NOT_ALLOWED', `Token "${ctx.principal.name}" may not request IP or URI SANs; only tokens with the "*" name pattern may.`);
  }

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

  const item: IssueRequestItem = {
    commonName,
    dnsNames: dedupe(sans.dnsNames.filter((n) => n !== commonName)),
    uris: dedupe(spiffeId === undefined ? sans.uris : [spiffeId, ...sans.uris]),
    ipAddresses: dedupe(sans.ipAddresses),
    validityMs,
    keyAlgorithm,
    reason: 'request',
  };
  return csrPem === undefined ? item : { ...item, csrPem };
}
