// Field schemas of the HTTP contract, shared with the queue contracts (libs/queue re-exports the
// ones it persists). Every check here is a regular expression or a bound, so the OpenAPI document
// generated from these schemas says exactly what the server accepts; the few rules a pattern
// cannot express (validity range, CSR signature, URL parsing) are named in the descriptions.
import { z } from 'zod';
import { DEFAULT_KEY_ALGORITHM, GO_DURATION_PATTERN, KEY_ALGORITHMS } from '@fsm-certs/core';

/** Persisted in payloads and records: adding an algorithm to core's list is a contract change. */
export const keyAlgorithmSchema = z.enum(KEY_ALGORITHMS);

export const providerKindSchema = z.enum(['tresor', 'vault', 'cert-manager']);
export type ProviderKindName = z.infer<typeof providerKindSchema>;

export const issuanceModeSchema = z.enum(['server-key', 'csr']);
export type IssuanceMode = z.infer<typeof issuanceModeSchema>;

/** Why a certificate is being (re-)issued; carried into the `issued` / `rotated` event. */
/** `root-rotation`: re-issued from the new root during a staged root rotation (or back from it in a rollback). */
export const issueReasonSchema = z.enum(['request', 'rotate-manual', 'rotate-scheduled', 'root-rotation']);
export type IssueReason = z.infer<typeof issueReasonSchema>;

/**
 * Length bounds of the fields a certificate's names and validity travel in: the same at every
 * layer (HTTP requests, queue items, audit records) and in every check of them.
 */
export const FIELD_LIMITS = {
  /** Characters of a DNS name or a common name. */
  dnsName: 253,
  /** Characters of a URI SAN. */
  uri: 2048,
  /** Characters of an IP address as text. */
  ipAddress: 64,
  /** Characters of a Go duration. */
  validity: 64,
  /** Entries of a request's `sans` (and of each name list of a queue item). */
  sans: 100,
} as const;

/**
 * A stored common name: bounded and free of separators. What a request may ask for is the
 * stricter dnsNameSchema; this is what records, jobs and events carry.
 */
export const commonNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(FIELD_LIMITS.dnsName, `must be at most ${FIELD_LIMITS.dnsName} characters`)
  .regex(/^[^\s/:]+$/, 'must not contain whitespace, "/" or ":"');

/** Certificate serial: lowercase hex without colons, as x509 and the providers emit it. */
export const SERIAL_NUMBER_PATTERN = /^[0-9a-f]{1,64}$/;
export const serialNumberSchema = z.string().regex(SERIAL_NUMBER_PATTERN, 'must be lowercase hex without colons');

export const isoDateTimeSchema = z.iso.datetime({ offset: true });

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** RFC 1123 host name, optionally "*."-prefixed: the same rule as @fsm-certs/x509's isValidDnsName. */
export const DNS_NAME_PATTERN = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);

export const dnsNameSchema = z
  .string()
  .max(FIELD_LIMITS.dnsName, `must be at most ${FIELD_LIMITS.dnsName} characters`)
  .regex(DNS_NAME_PATTERN, 'must be a DNS name: RFC 1123 labels of letters, digits and "-", optionally starting with "*."')
  .meta({ description: 'A DNS name (RFC 1123 labels, case-insensitive, optional leading "*."), at most 253 characters.' });

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
export const IPV4_PATTERN = new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`);
const H16 = '[0-9a-fA-F]{1,4}';
/** IPv6 in text form, without zone ids or embedded IPv4 (the forms certificates carry). */
export const IPV6_PATTERN = new RegExp(
  `^(?:(?:${H16}:){7}${H16}|(?:${H16}:){1,7}:|(?:${H16}:){1,6}:${H16}|(?:${H16}:){1,5}(?::${H16}){1,2}|(?:${H16}:){1,4}(?::${H16}){1,3}|(?:${H16}:){1,3}(?::${H16}){1,4}|(?:${H16}:){1,2}(?::${H16}){1,5}|${H16}:(?::${H16}){1,6}|:(?:(?::${H16}){1,7}|:))$`,
);
/** An absolute URI of printable ASCII (an IA5String in the certificate). */
export const URI_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]*$/;

export const ipAddressSchema = z.union([
  z.string().regex(IPV4_PATTERN, 'must be an IPv4 address'),
  z.string().regex(IPV6_PATTERN, 'must be an IPv6 address'),
]);

export const uriSchema = z
  .string()
  .max(FIELD_LIMITS.uri)
  .regex(URI_PATTERN, 'must be an absolute URI of printable ASCII')
  .refine((value) => URL.canParse(value), 'must be a URI that parses (WHATWG URL)')
  .meta({ description: 'An absolute URI of printable ASCII that parses as a WHATWG URL, at most 2048 characters.' });

/** One entry of `sans`: an IP address, a URI ("scheme:..."), or a DNS name, tried in that order. */
export const subjectAltNameSchema = z.union([ipAddressSchema, uriSchema, dnsNameSchema]);

export const validitySchema = z
  .string()
  .max(FIELD_LIMITS.validity)
  .regex(GO_DURATION_PATTERN, 'must be a Go duration such as "24h", "1h30m" or "1.5h"')
  .meta({
    description: 'A Go duration, at least 10m and at most 100 years (876000h); default certificateProvider.serviceCertValidityDuration (24h).',
    examples: ['24h', '1h30m'],
  });

export const csrPemSchema = z
  .string()
  .max(32 * 1024)
  .regex(/^-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----[\s\S]+-----END (?:NEW )?CERTIFICATE REQUEST-----\s*$/, 'must be one PEM "CERTIFICATE REQUEST"')
  .meta({
    description: 'PKCS#10 CSR in PEM. Its signature must verify; only its public key is used: the identity comes from commonName and sans.',
  });

/** A namespace or service account as a SPIFFE path segment: [A-Za-z0-9._-]+, but not "." or "..". */
export const spiffeSegmentSchema = z
  .string()
  .max(253)
  .regex(/^(?:[A-Za-z0-9_-]|\.{1,2}[A-Za-z0-9_-]|\.{3})[A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "-" and "_", and not "." or ".."');

export const spiffeRequestSchema = z
  .union([z.boolean(), z.strictObject({ namespace: spiffeSegmentSchema, serviceAccount: spiffeSegmentSchema })])
  .meta({
    description:
      'Add the SPIFFE URI SAN spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>. `true` derives it from a <serviceAccount>.<namespace>.<trustDomain> commonName.',
  });

export const defaultKeyAlgorithmSchema = keyAlgorithmSchema.meta({
  description: `Key algorithm of a server-generated key (default ${DEFAULT_KEY_ALGORITHM}); in CSR mode it must match the CSR's key or be omitted.`,
});

/** A PEM block of the given label, as responses carry it. */
export function pemOf(label: string): z.ZodString {
  return z.string().regex(new RegExp(`-----BEGIN ${label}-----`), `must be a PEM ${label}`);
}
