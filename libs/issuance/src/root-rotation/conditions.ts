// When a stage of the root rotation may advance: the facts one pass gathered (live leaves per
// root, the root each live ca-service signs with) against the stored state. Pure, so the
// controller's automatic steps and an admin's manual ones are judged by the same rules.
import { formatDuration } from '@fsm-certs/core';
import type { RotationState } from '@fsm-certs/providers';

export interface RotationFacts {
  readonly nowMs: number;
  /** Fingerprint of the root this replica signs with. */
  readonly signer: string;
  readonly liveByIssuer: ReadonlyMap<string, number>;
  /** Live ca-service instance id -> the root it signs with (absent: not reported yet). */
  readonly signers: Readonly<Record<string, string>>;
  readonly liveInstances: readonly string[];
  /** notAfter of the root being moved away from, if known. */
  readonly leavingRootNotAfterMs?: number;
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not (or what is awaited), for GET /v1/ca/rotation and the 409 detail. */
  readonly reason: string;
  /** The earliest time it may become ready, when known. */
  readonly atMs?: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The root leaves move away from in this stage (old when activated, new when rolled back). */
export function leavingRoot(state: RotationState): string | undefined {
  if (state.stage === 'activated') return state.oldFingerprint;
  if (state.stage === 'rolled-back') return state.newFingerprint;
  return undefined;
}

/** No live leaf chains to the root being left, and every live ca-service signs with the other one. */
export function drained(state: RotationState, facts: RotationFacts): { drained: boolean; reason: string } {
  const leaving = leavingRoot(state);
  if (leaving === undefined) return { drained: false, reason: `stage "${state.stage}" moves no leaves` };
  const left = facts.liveByIssuer.get(leaving) ?? 0;
  const lagging = facts.liveInstances.filter((id) => facts.signers[id] !== facts.signer);
  const parts: string[] = [];
  if (left > 0) parts.push(`${left} live leaf certificate${left === 1 ? '' : 's'} still chain${left === 1 ? 's' : ''} to the ${state.stage === 'activated' ? 'old' : 'new'} root`);
  if (lagging.length > 0) parts.push(`ca-service ${lagging.join(', ')} ${lagging.length === 1 ? 'does' : 'do'} not sign with the ${state.stage === 'activated' ? 'new' : 'old'} root yet`);
  return { drained: parts.length === 0, reason: parts.join('; ') };
}

/** A period counts from `fromIso`, or from when a gateway came back after an outage, whichever is later. */
function periodStart(state: RotationState, fromIso: string): number {
  return Math.max(Date.parse(fromIso), state.clockFrom === undefined ? 0 : Date.parse(state.clockFrom));
}

function gatewayDown(state: RotationState): Readiness | undefined {
  if (state.gatewayDownAt === undefined) return undefined;
  return {
    ready: false,
    reason: `no issuer-gateway has been live since ${state.gatewayDownAt}, so agents cannot fetch bundles or leaves; the propagation period starts again when one is back`,
  };
}

/** activate: the propagation period since prepare (or rollback) has passed, with a gateway up all along. */
export function activateReadiness(state: RotationState, facts: RotationFacts): Readiness {
  if (state.stage !== 'prepared' && state.stage !== 'rolled-back') return { ready: false, reason: `stage "${state.stage}" cannot be activated` };
  const down = gatewayDown(state);
  if (down !== undefined) return down;
  const atMs = periodStart(state, state.stageSince) + state.propagationMs;
  if (facts.nowMs >= atMs) return { ready: true, reason: 'the propagation period has passed', atMs };
  return {
    ready: false,
    reason: `the propagation period (${formatDuration(state.propagationMs)}) for agents to fetch the bundle with both roots ends at ${iso(atMs)}`,
    atMs,
  };
}

/**
 * retire (from activated) or the final rollback (from rolled-back): nothing chains to the root
 * being dropped, and agents had a propagation period since to fetch the last re-issued leaves.
 * A root that has expired is dropped regardless: nothing can chain to it any more.
 */
export function dropReadiness(state: RotationState, facts: RotationFacts): Readiness {
  if (state.stage === 'activated' && facts.leavingRootNotAfterMs !== undefined && facts.leavingRootNotAfterMs <= facts.nowMs) {
    return { ready: true, reason: 'the old root has expired' };
  }
  const d = drained(state, facts);
  if (!d.drained) return { ready: false, reason: d.reason };
  if (state.drainedAt === undefined) return { ready: false, reason: 'waiting for the next pass to note that every leaf has moved' };
  const down = gatewayDown(state);
  if (down !== undefined) return down;
  const atMs = periodStart(state, state.drainedAt) + state.propagationMs;
  if (facts.nowMs >= atMs) return { ready: true, reason: 'every leaf has moved and agents had the propagation period to fetch them', atMs };
  return { ready: false, reason: `every leaf has moved; agents get the propagation period (${formatDuration(state.propagationMs)}) to fetch them, until ${iso(atMs)}`, atMs };
}
