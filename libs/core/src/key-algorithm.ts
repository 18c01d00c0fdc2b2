// The key algorithms we issue, and the key usages each one may carry. ECDSA P-256 is the default;
// RSA sizes are selectable (FSM's own default is RSA 2048).

export const KEY_ALGORITHMS = ['ecdsa-p256', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ecdsa-p256';

export type KeyFamily = 'ec' | 'rsa';

export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value);
}

export function keyFamilyOf(algorithm: KeyAlgorithm): KeyFamily {
  return algorithm === 'ecdsa-p256' ? 'ec' : 'rsa';
}

/** Modulus length of an RSA algorithm; undefined for EC. */
export function rsaModulusBits(algorithm: KeyAlgorithm): number | undefined {
  switch (algorithm) {
    case 'rsa-2048':
      return 2048;
    case 'rsa-3072':
      return 3072;
    case 'rsa-4096':
      return 4096;
    case 'ecdsa-p256':
      return undefined;
  }
}

/** The RSA public exponent we require in keys and CSRs (F4); small exponents such as 3 are refused. */
export const RSA_PUBLIC_EXPONENT = 65537;

/** X.509 keyUsage names, spelled as RFC 5280 and cert-manager spell them. */
export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyAgreement';

/**
 * Key usages of an mTLS leaf, by key family. RFC 5480 §3 forbids keyEncipherment for EC keys
 * (zlint e_ecdsa_allowed_ku); RSA keys need it for TLS RSA key transport. Every place that asks a
 * backend for usages (our leaf builder, the Vault role, cert-manager's CertificateRequest) uses this.
 */
export function leafKeyUsages(family: KeyFamily): readonly KeyUsage[] {
  return family === 'ec' ? ['digitalSignature'] : ['digitalSignature', 'keyEncipherment'];
}

/** Extended key usages of every mesh leaf: it is both a TLS server and a TLS client. */
export const LEAF_EXTENDED_KEY_USAGES = ['serverAuth', 'clientAuth'] as const;
