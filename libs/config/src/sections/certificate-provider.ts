// certificateProvider.*: which provider signs, how long service certs live, which keys we make.
import { z } from 'zod';
import { parseGoDurationMs } from '../duration.js';
import type { EnvBinding } from './env-binding.js';

export const PROVIDER_KINDS = ['tresor', 'vault', 'cert-manager'] as const;
export const CONFIG_KEY_ALGORITHMS = ['ecdsa-p256', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

/** x509 refuses leaves shorter than this; refusing it at start-up beats failing every issuance. */
const MIN_LEAF_VALIDITY_MS = 10 * 60_000;

/** A Go duration string, validated, with the parsed milliseconds available through parseGoDurationMs. */
export function goDuration(description: string, minimumMs: number) {
  return z.string().refine(
    (value) => {
      const ms = parseGoDurationMs(value);
      return ms !== undefined && ms >= minimumMs;
    },
    { error: description },
  );
}

function durationMs(value: string): number {
  // Already validated by goDuration(); 0 is unreachable because of the minimum.
  return parseGoDurationMs(value) ?? 0;
}

export const certificateProviderSchema = z
  .strictObject({
    kind: z.enum(PROVIDER_KINDS).default('tresor'),
    serviceCertValidityDuration: goDuration('a Go duration of at least 10m, e.g. 24h, 1h30m or 1.5h', MIN_LEAF_VALIDITY_MS).default('24h'),
    keyAlgorithm: z.enum(CONFIG_KEY_ALGORITHMS).default('ecdsa-p256'),
    rootValidityDuration: goDuration('a Go duration of at least 1h, e.g. 87600h', 3_600_000).default('87600h'),
  })
  .transform((section) => ({
    ...section,
    serviceCertValidityMs: durationMs(section.serviceCertValidityDuration),
    rootValidityMs: durationMs(section.rootValidityDuration),
  }));

export const certificateProviderEnv: readonly EnvBinding[] = [
  { env: 'CERT_MANAGER', path: ['certificateProvider', 'kind'] },
  { env: 'FSM_SERVICE_CERT_VALIDITY', path: ['certificateProvider', 'serviceCertValidityDuration'] },
  { env: 'FSM_KEY_ALGORITHM', path: ['certificateProvider', 'keyAlgorithm'] },
  { env: 'FSM_ROOT_VALIDITY', path: ['certificateProvider', 'rootValidityDuration'] },
];
