// zod schemas for the Vault responses we read: nothing from the wire is trusted unvalidated.
import { z } from 'zod';

const warnings = z.array(z.string()).nullish().transform((w) => w ?? []);

export const envelopeSchema = <T extends z.ZodType>(data: T) =>
  z.object({ data, warnings });

export const healthSchema = z.object({
  initialized: z.boolean(),
  sealed: z.boolean(),
  standby: z.boolean(),
  version: z.string().optional(),
});
export type VaultHealth = z.infer<typeof healthSchema>;

export const tokenLookupSchema = envelopeSchema(
  z.object({
    ttl: z.number(),
    // A root token from sys/init (a production Vault's first token) has no `renewable` at all.
    renewable: z.boolean().optional().default(false),
    creation_ttl: z.number().optional(),
    policies: z.array(z.string()).nullish(),
    expire_time: z.string().nullish(),
  }),
);
export type TokenLookup = z.infer<typeof tokenLookupSchema>['data'];

export const tokenAuthSchema = z.object({
  auth: z.object({ lease_duration: z.number(), renewable: z.boolean() }),
});

export const mountsSchema = z.record(z.string(), z.unknown());

export const tuneSchema = z.object({ max_lease_ttl: z.number(), default_lease_ttl: z.number() });

const stringList = z.union([z.array(z.string()), z.string()]).nullish().transform((v) => {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
});

export const urlsSchema = envelopeSchema(
  z.object({ issuing_certificates: stringList, crl_distribution_points: stringList }),
);

export const roleSchema = envelopeSchema(
  z.object({
    allow_any_name: z.boolean().optional(),
    allow_subdomains: z.boolean().optional(),
    allow_bare_domains: z.boolean().optional(),
    allow_localhost: z.boolean().optional(),
    allowed_domains: stringList,
    allowed_uri_sans: stringList,
    enforce_hostnames: z.boolean().optional(),
    max_ttl: z.number().optional(),
    key_type: z.string().optional(),
    key_bits: z.number().optional(),
    key_usage: stringList,
    use_csr_common_name: z.boolean().optional(),
    use_csr_sans: z.boolean().optional(),
  }),
);
export type VaultRole = z.infer<typeof roleSchema>['data'];

export const rootSchema = envelopeSchema(
  z.object({ certificate: z.string(), serial_number: z.string().optional(), expiration: z.number().optional(), issuer_id: z.string().optional() }),
);

export const certCaSchema = envelopeSchema(z.object({ certificate: z.string() }));

export const issuedSchema = envelopeSchema(
  z.object({
    certificate: z.string().min(1),
    issuing_ca: z.string().min(1),
    ca_chain: z.array(z.string()).nullish(),
    private_key: z.string().optional(),
    private_key_type: z.string().optional(),
    serial_number: z.string(),
    expiration: z.number(),
  }),
);
export type VaultIssued = z.infer<typeof issuedSchema>;

export const capabilitiesSchema = z.record(z.string(), z.unknown());

/** LIST <mount>/issuers (Vault >= 1.11, OpenBao): issuer ids. */
export const issuerListSchema = envelopeSchema(z.object({ keys: z.array(z.string()).nullish().transform((k) => k ?? []) }));

/** GET <mount>/issuer/<id>/json: the issuer's certificate and its chain up to a root. */
export const issuerSchema = envelopeSchema(
  z.object({
    certificate: z.string().min(1),
    ca_chain: z.array(z.string()).nullish().transform((c) => c ?? []),
    revoked: z.boolean().optional(),
  }),
);
export type VaultIssuer = z.infer<typeof issuerSchema>['data'];
