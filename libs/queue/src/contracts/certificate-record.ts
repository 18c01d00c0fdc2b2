// What the inventory stores per common name and what issue results carry. Persisted in Redis:
// add optional fields only; anything else needs a migration. This one schema is what every
// writer validates against before storing and every reader decodes with (inventory/record-codec.ts),
// so nothing can be written that a reader then refuses.
import { z } from 'zod';
import { issuanceModeSchema } from '@fsm-certs/api';
import {
  commonNameSchema,
  isoDateTimeSchema,
  keyAlgorithmSchema,
  pemSchema,
  providerKindSchema,
  serialNumberSchema,
} from './common.js';

export { issuanceModeSchema, type IssuanceMode } from '@fsm-certs/api';

/**
 * Upper bound on one certificate PEM in a record, issue result or trust bundle. It bounds what a
 * reader buffers per field, far above what a certificate legitimately reaches: a leaf grows with
 * its SANs, which an issue item allows up to ~230 kB of (100 URIs of 2 kB, 100 DNS names), i.e.
 * ~320 kB of PEM; CA certificates come from Vault or cert-manager as they are.
 */
export const MAX_CERTIFICATE_PEM_CHARS = 1024 * 1024;

export const certificatePemSchema = z.string().min(1).max(MAX_CERTIFICATE_PEM_CHARS);

export const certificateRecordSchema = z.object({
  commonName: commonNameSchema,
  serialNumber: serialNumberSchema,
  notBefore: isoDateTimeSchema,
  notAfter: isoDateTimeSchema,
  /** When the rotation-worker should renew it (inside the renewal window, with jitter). */
  renewAt: isoDateTimeSchema,
  certificatePem: certificatePemSchema,
  /** Intermediates between leaf and root, leaf excluded. */
  chainPem: z.array(certificatePemSchema),
  issuingCaPem: certificatePemSchema,
  trustedCasPem: z.array(certificatePemSchema),
  /** SHA-256 fingerprint (lowercase hex) of the issuing CA. */
  issuerId: z.string().min(1),
  provider: providerKindSchema,
  keyAlgorithm: keyAlgorithmSchema,
  mode: issuanceModeSchema,
  /** The DNS SANs the certificate carries, the common name included (older records may omit the CN). */
  dnsNames: z.array(z.string()),
  uris: z.array(z.string()),
  ipAddresses: z.array(z.string()),
  validityMs: z.int().positive(),
  /**
   * Kept in CSR mode so the rotation can re-sign the same CSR (the key lives in the workload).
   * The issue item's own bound: a record holds only CSRs an item carried.
   */
  csrPem: pemSchema.optional(),
  /** Server-key mode only: the key sealed by sealPrivateKey() (`v1.` or `v2.<iv>.<tag>.<ct>`), never clear. */
  encryptedPrivateKey: z.string().regex(/^v[12]\./).optional(),
  /** Set by Inventory.put when this record replaced one with another serial. */
  previousSerialNumber: serialNumberSchema.optional(),
  issuedAt: isoDateTimeSchema,
  warnings: z.array(z.string()),
});
export type CertificateRecord = z.infer<typeof certificateRecordSchema>;

/**
 * A record whose CA PEMs may be left out because they are the trust bundle's (issue results v2).
 * Both present or both absent; the reader checks which, and fills them in from the bundle.
 */
export const compactCertificateRecordSchema = certificateRecordSchema.extend({
  issuingCaPem: certificatePemSchema.optional(),
  trustedCasPem: z.array(certificatePemSchema).optional(),
});
export type CompactCertificateRecord = z.infer<typeof compactCertificateRecordSchema>;

/** The trust bundle the gateway serves at /v1/ca. */
export const trustBundleRecordSchema = z.object({
  version: z.literal(1),
  issuingCaPem: certificatePemSchema,
  trustedCasPem: z.array(certificatePemSchema).min(1),
  /** Earliest notAfter among the trusted roots; /metrics exports it, `check` warns on it. */
  rootNotAfter: isoDateTimeSchema,
  updatedAt: isoDateTimeSchema,
});
export type TrustBundleRecord = z.infer<typeof trustBundleRecordSchema>;
