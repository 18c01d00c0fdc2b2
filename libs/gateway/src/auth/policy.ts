// What a caller may obtain beyond its name patterns: the per-token (or per ServiceAccount
// group) policy. Defaults are safe: no wildcards, both key modes, every key algorithm, the
// gateway's rate, and no validity cap beyond the global one (ServiceAccount callers get 24h).
import { formatDuration, type KeyAlgorithm } from '@fsm-certs/core';

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

/** What policy looks at in a request (or a rotation of a stored certificate). */
export interface PolicySubject {
  readonly validityMs: number;
  readonly keyAlgorithm: KeyAlgorithm;
  /** Present in CSR mode. */
  readonly csrPem?: string;
}

/** The rule that refused a request, as named in configuration and in the 403's detail. */
export type PolicyRule = 'maxValidity' | 'keyAlgorithms' | 'keyModes';

export interface PolicyRefusal {
  readonly rule: PolicyRule;
  readonly detail: string;
}

/** The first rule `subject` breaks, or undefined when the policy allows it. */
export function policyRefusal(policy: CallerPolicy, subject: PolicySubject): PolicyRefusal | undefined {
  if (policy.maxValidityMs !== undefined && subject.validityMs > policy.maxValidityMs) {
    return { rule: 'maxValidity', detail: `validity ${formatDuration(subject.validityMs)} is over the maximum of ${formatDuration(policy.maxValidityMs)}` };
  }
  if (policy.keyAlgorithms !== undefined && !policy.keyAlgorithms.includes(subject.keyAlgorithm)) {
    return { rule: 'keyAlgorithms', detail: `key algorithm ${subject.keyAlgorithm} is not one of ${policy.keyAlgorithms.join(', ')}` };
  }
  const mode: KeyMode = subject.csrPem === undefined ? 'server' : 'csr';
  if (!policy.keyModes.includes(mode)) {
    return {
      rule: 'keyModes',
      detail: mode === 'server' ? 'server-generated keys are not allowed; send a CSR' : 'CSR mode is not allowed; omit csr to have the key generated',
    };
  }
  return undefined;
}

/** The validity a request without one gets: the configured default, capped by the policy. */
export function defaultValidityFor(policy: CallerPolicy, defaultMs: number): number {
  return policy.maxValidityMs === undefined ? defaultMs : Math.min(defaultMs, policy.maxValidityMs);
}
