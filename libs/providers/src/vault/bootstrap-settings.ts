// What vault-bootstrap sets up: deploy-vault.sh's PKI setup, every value configurable.
import { leafKeyUsages, parseDuration, type KeyUsage } from '@fsm-certs/core';
import { z } from 'zod';

const goDuration = z.string().refine((v) => {
  try {
    return parseDuration(v) > 0;
  } catch {
    return false;
  }
}, { error: 'a Go duration such as 24h or 87600h' });

const keyType = z.enum(['ec', 'rsa']);

export const bootstrapSettingsSchema = z.strictObject({
  /** PKI mount path (`vault secrets enable -path=<mountPath> pki`). */
  mountPath: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, { error: 'a mount path such as pki' }).default('pki'),
  /** `vault secrets tune -max-lease-ttl=...`. */
  maxLeaseTtl: goDuration.default('87600h'),
  /** Defaults derive from the Vault address: <addr>/v1/<mount>/ca and <addr>/v1/<mount>/crl. */
  issuingCertificates: z.array(z.url()).optional(),
  crlDistributionPoints: z.array(z.url()).optional(),
  role: z.strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'a role name such as fsm' }).default('fsm'),
    allowAnyName: z.boolean().default(true),
    allowSubdomains: z.boolean().default(true),
    allowBareDomains: z.boolean().default(true),
    allowLocalhost: z.boolean().default(true),
    allowedDomains: z.array(z.string().min(1)).default([]),
    /** SPIFFE URI SANs (docs/architecture.md, certificates) need an allowed_uri_sans pattern; deploy-vault.sh predates them. */
    allowedUriSans: z.array(z.string().min(1)).default(['spiffe://*']),
    enforceHostnames: z.boolean().default(true),
    maxTtl: goDuration.default('24h'),
    /**
     * Vault's default is rsa/2048 (what deploy-vault.sh gets); we default to ec/256 like the rest of
     * fsm-certs. A role with key_type rsa refuses EC CSRs, so pick the type your workloads use.
     */
    keyType: keyType.default('ec'),
    keyBits: z.number().int().default(0),
  }).prefault({}),
  root: z.strictObject({
    commonName: z.string().min(1).default('fsm.root'),
    ttl: goDuration.default('87600h'),
    keyType: keyType.default('ec'),
    keyBits: z.number().int().default(0),
  }).prefault({}),
  /** How long to wait for sys/health to report an unsealed Vault. */
  healthTimeoutMs: z.number().int().positive().default(60_000),
  healthIntervalMs: z.number().int().positive().default(500),
});

export type BootstrapSettings = z.output<typeof bootstrapSettingsSchema>;
export type BootstrapSettingsInput = z.input<typeof bootstrapSettingsSchema>;

export function keyBitsFor(type: 'ec' | 'rsa', bits: number): number {
  if (bits > 0) return bits;
  return type === 'ec' ? 256 : 2048;
}

/** Vault's names for key usages: Go's x509.KeyUsage constants without the "KeyUsage" prefix. */
const VAULT_KEY_USAGE: Readonly<Record<KeyUsage, string>> = {
  digitalSignature: 'DigitalSignature',
  keyEncipherment: 'KeyEncipherment',
  keyAgreement: 'KeyAgreement',
};

/**
 * The role's key_usage. A role has one key_type, so its leaves' usages follow that key family.
 * Vault applies key_usage as written whatever the key (its default adds KeyAgreement and
 * KeyEncipherment), and RFC 5480 forbids keyEncipherment on EC keys: an ec role gets
 * DigitalSignature only, an rsa role DigitalSignature and KeyEncipherment.
 */
export function roleKeyUsage(type: 'ec' | 'rsa'): string[] {
  return leafKeyUsages(type).map((usage) => VAULT_KEY_USAGE[usage]);
}

export function secondsOf(duration: string): number {
  return Math.round(parseDuration(duration) / 1000);
}
