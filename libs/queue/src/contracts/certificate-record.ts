// What the inventory stores per common name and what issue results carry. Persisted in Redis:
// add optional fields only; anything else needs a migration.
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

export const certificateRecordSchema = z.object({
  commonName: commonNameSchema,
  serialNumber: serialNumberSchema,
  notBefore: isoDateTimeSchema,
  notAfter: isoDateTimeSchema,
  /** When the rotation-worker should renew it (inside the renewal window, with jitter). */
  renewAt: isoDateTimeSchema,
  certificatePem: pemSchema,
  /** Intermediates between leaf and root, leaf excluded. */
  chainPem: z.array(pemSchema),
  issuingCaPem: pemSchema,
  trustedCasPem: z.array(pemSchema),
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
  /** Kept in CSR mode so the rotation can re-sign the same CSR (the key lives in the workload). */
  csrPem: pemSchema.optional(),
  /** Server-key mode only: the key sealed by sealPrivateKey() (`v1.<iv>.<tag>.<ct>`), never clear. */
  encryptedPrivateKey: z.string().startsWith('v1.').optional(),
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
  issuingCaPem: pemSchema.optional(),
  trustedCasPem: z.array(pemSchema).optional(),
});
export type CompactCertificateRecord = z.infer<typeof compactCertificateRecordSchema>;

/** The trust bundle the gateway serves at /v1/ca. */
export const trustBundleRecordSchema = z.object({
  version: z.literal(1),
  issuingCaPem: pemSchema,
  trustedCasPem: z.array(pemSchema).min(1),
  /** Earliest notAfter among the trusted roots; /metrics exports it, `check` warns on it. */
  rootNotAfter: isoDateTimeSchema,
  updatedAt: isoDateTimeSchema,
});
export type TrustBundleRecord = z.infer<typeof trustBundleRecordSchema>;
