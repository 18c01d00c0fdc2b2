// What a caller may obtain beyond its name patterns: the per-token (or per ServiceAccount
// group) policy. Defaults are safe: no wildcards, both key modes, every key algorithm, the
// gateway's rate, and no validity cap beyond the global one (ServiceAccount callers get 24h).
import type { KeyAlgorithm } from '@fsm-certs/core';

/** `server`: the gateway's CA generates the key and returns it; `csr`: the key never leaves the workload. */
export type KeyMode = 'csr' | 'server';
export const KEY_MODES: readonly KeyMode[] = ['csr', 'server'];

export interface CallerPolicy {
  /** Longest validity this caller may ask for (and have rotated); undefined = the global bound. */
  readonly maxValidityMs: number | undefined;
  /** Key algorithms allowed; undefined = every algorithm the CA supports. */
  readonly keyAlgorithms: readonly KeyAlgorithm[] | undefined;
  readonly keyModes: readonly KeyMode[];
  /** Whether `*.`-names may be asked for (never for a mesh identity unless set). */
  readonly allowWildcards: boolean;
  /** Requests per second for this caller; undefined = the gateway's rate. */
  readonly ratePerSec: number | undefined;
}

export const DEFAULT_POLICY: CallerPolicy = {
  maxValidityMs: undefined,
  keyAlgorithms: undefined,
  keyModes: KEY_MODES,
  allowWildcards: false,
  ratePerSec: undefined,
};

/** A partial policy as configuration gives it; missing fields keep the default. */
export type CallerPolicyInput = Partial<CallerPolicy>;

export function resolvePolicy(input: CallerPolicyInput | undefined, base: CallerPolicy = DEFAULT_POLICY): CallerPolicy {
  if (input === undefined) return base;
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as CallerPolicyInput;
  return { ...base, ...defined };
}
