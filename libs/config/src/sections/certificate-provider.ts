// certificateProvider.*: which provider signs, how long service certs live, which keys we make.
import { z } from 'zod';
import { DEFAULT_KEY_ALGORITHM, KEY_ALGORITHMS, parseDurationMs } from '@fsm-certs/core';
import type { EnvBinding } from './env-binding.js';
import { goDuration } from './go-duration.js';

export const PROVIDER_KINDS = ['tresor', 'vault', 'cert-manager'] as const;

/** x509 refuses leaves shorter than this; refusing it at start-up beats failing every issuance. */
const MIN_LEAF_VALIDITY_MS = 10 * 60_000;

export const certificateProviderSchema = z
  .strictObject({
    kind: z.enum(PROVIDER_KINDS).default('tresor'),
    serviceCertValidityDuration: goDuration('a Go duration of at least 10m, e.g. 24h, 1h30m or 1.5h', MIN_LEAF_VALIDITY_MS).default('24h'),
    keyAlgorithm: z.enum(KEY_ALGORITHMS).default(DEFAULT_KEY_ALGORITHM),
    rootValidityDuration: goDuration('a Go duration of at least 1h, e.g. 87600h', 3_600_000).default('87600h'),
  })
  .transform((section) => ({
    ...section,
    serviceCertValidityMs: parseDurationMs(section.serviceCertValidityDuration),
    rootValidityMs: parseDurationMs(section.rootValidityDuration),
  }));

export const certificateProviderEnv: readonly EnvBinding[] = [
  { env: 'CERT_MANAGER', path: ['certificateProvider', 'kind'] },
  { env: 'FSM_SERVICE_CERT_VALIDITY', path: ['certificateProvider', 'serviceCertValidityDuration'] },
  { env: 'FSM_KEY_ALGORITHM', path: ['certificateProvider', 'keyAlgorithm'] },
  { env: 'FSM_ROOT_VALIDITY', path: ['certificateProvider', 'rootValidityDuration'] },
];
