// What the gateway answers: the JSON bodies of every 2xx response. Problem bodies are in
// problems.ts. The gateway builds these from inventory records; the client parses with them.
import { z } from 'zod';
import { issuanceModeSchema, isoDateTimeSchema, keyAlgorithmSchema, pemOf, serialNumberSchema, commonNameSchema } from './fields.js';

const certificatePem = pemOf('CERTIFICATE');

export const certificateSchema = z.object({
  commonName: commonNameSchema,
  serialNumber: serialNumberSchema.meta({ description: 'Lowercase hex.' }),
  certificate: certificatePem.meta({ description: 'The leaf, PEM.' }),
  chain: z.array(certificatePem).meta({ description: 'Intermediates between the leaf and the root (leaf excluded); empty when the root signs directly.' }),
  issuingCA: certificatePem,
  trustedCAs: z.array(certificatePem).meta({ description: 'Every root a peer certificate may chain to (more than one during a root rotation).' }),
  notBefore: isoDateTimeSchema,
  notAfter: isoDateTimeSchema,
  renewAt: isoDateTimeSchema.meta({ description: 'When the rotation-worker renews it.' }),
  keyAlgorithm: keyAlgorithmSchema,
  mode: issuanceModeSchema,
  dnsNames: z.array(z.string()).meta({ description: 'The DNS SANs the certificate carries, in order, the common name first.' }),
  uris: z.array(z.string()),
  ipAddresses: z.array(z.string()),
  privateKey: pemOf('PRIVATE KEY')
    .optional()
    .meta({ description: 'PKCS#8 PEM: only for server-generated keys, in the issue / rotate answer that produced or reused it (or for an admin with includeKey=true).' }),
  warnings: z.array(z.string()).optional().meta({ description: 'What the issuer changed from the request (e.g. validity capped at the root\'s expiry).' }),
}).meta({ id: 'Certificate' });
export type Certificate = z.infer<typeof certificateSchema>;

/** A certificate as listed: never with a private key. */
export const listedCertificateSchema = certificateSchema.omit({ privateKey: true });
export type ListedCertificate = z.infer<typeof listedCertificateSchema>;

export const certificateListSchema = z.object({
  items: z.array(listedCertificateSchema),
  nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last page.' }),
  unreadable: z
    .array(commonNameSchema)
    .optional()
    .meta({
      description:
        'Names of this page whose stored record cannot be read (damaged, or written by another version): left out of items. Usually empty; delete each and issue it again. Always sent by this version.',
    }),
  inventorySize: z
    .int()
    .min(0)
    .optional()
    .meta({ description: 'With overdue=true, to a token with the `*` pattern only: how many certificates the inventory holds.' }),
}).meta({ id: 'CertificateList' });
export type CertificateList = z.infer<typeof certificateListSchema>;

export const trustBundleSchema = z.object({
  issuingCA: certificatePem.meta({ description: 'The CA that signs new certificates now.' }),
  trustedCAs: z.array(certificatePem).min(1),
  rootNotAfter: isoDateTimeSchema.meta({ description: 'The earliest notAfter among the trusted roots.' }),
  updatedAt: isoDateTimeSchema,
}).meta({ id: 'TrustBundle' });
export type TrustBundle = z.infer<typeof trustBundleSchema>;

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.literal('ok')) });

/** The served OpenAPI document, as far as a client relies on it. */
export const openApiDocumentSchema = z.looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) });

/** Text bodies: PEM bundles, Prometheus metrics, the event stream. */
export const textSchema = z.string();
