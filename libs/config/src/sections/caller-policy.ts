// Per-caller policy in configuration: given per token (gateway.tokens[].policy) and for every
// ServiceAccount caller as a group (gateway.serviceAccountAuth.policy). Validated here; the
// gateway enforces it (a request beyond it is 403 POLICY_DENIED naming the rule).
import { z } from 'zod';
import { KEY_ALGORITHMS, parseDurationMs } from '@fsm-certs/core';
import { goDuration } from './go-duration.js';

export const KEY_MODES = ['csr', 'server'] as const;

const booleanish = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'true or false' })])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

export const callerPolicySchema = z
  .strictObject({
    /** Longest validity the caller may ask for, a Go duration (at least 10m). */
    maxValidity: goDuration('a Go duration of at least 10m, e.g. 24h', 10 * 60 * 1000).optional(),
    keyAlgorithms: z.array(z.enum(KEY_ALGORITHMS, { error: `one of ${KEY_ALGORITHMS.join(', ')}` })).min(1, { error: 'at least one key algorithm' }).optional(),
    /** `csr` (the key never leaves the workload) and/or `server` (the CA generates and returns it). */
    keyModes: z.array(z.enum(KEY_MODES, { error: 'csr or server' })).min(1, { error: 'at least one of csr, server' }).optional(),
    allowWildcards: booleanish.optional(),
    /** Requests per second for this caller, shared by every gateway replica; burst twice that (at least 1). */
    rateLimitPerSec: z.coerce.number({ error: 'requests per second, > 0' }).positive({ error: 'requests per second, > 0' }).optional(),
  })
  .transform((p) => ({
    ...(p.maxValidity === undefined ? {} : { maxValidityMs: parseDurationMs(p.maxValidity) }),
    ...(p.keyAlgorithms === undefined ? {} : { keyAlgorithms: p.keyAlgorithms }),
    ...(p.keyModes === undefined ? {} : { keyModes: p.keyModes }),
    ...(p.allowWildcards === undefined ? {} : { allowWildcards: p.allowWildcards }),
    ...(p.rateLimitPerSec === undefined ? {} : { ratePerSec: p.rateLimitPerSec }),
  }));

export type CallerPolicyConfig = z.output<typeof callerPolicySchema>;
