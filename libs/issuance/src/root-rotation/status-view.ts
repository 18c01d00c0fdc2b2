// What GET /v1/ca/rotation serves: the roots, their live leaves and what the rotation waits for,
// from one pass's facts. Pure, so every replica words the same stage the same way.
import { formatDuration } from '@fsm-certs/core';
import type { RotationState, TresorMaterial } from '@fsm-certs/providers';
import type { RootRotationAction, RootRotationStatus, RotationRoot } from '@fsm-certs/queue';
import { fingerprintSha256, inspectCertificate } from '@fsm-certs/x509';
import { activateReadiness, dropReadiness, type Readiness, type RotationFacts } from './conditions.js';

/** The bundle a non-Tresor replica published last: the roots of its status. */
export interface PublishedBundle {
  readonly issuingCaPem: string;
  readonly trustedCasPem: readonly string[];
}

export function rotationStatus(material: TresorMaterial | undefined, bundle: PublishedBundle | undefined, facts: RotationFacts): RootRotationStatus {
  const now = new Date(facts.nowMs).toISOString();
  if (material === undefined) {
    const roots = (bundle?.trustedCasPem ?? []).map((pem): RotationRoot => {
      const info = inspectCertificate(pem);
      const fingerprint = fingerprintSha256(pem);
      return {
        role: 'current',
        fingerprint,
        subject: info.subject,
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        signing: bundle !== undefined && pem.trim() === bundle.issuingCaPem.trim(),
        trusted: true,
        liveLeaves: facts.liveByIssuer.get(fingerprint) ?? 0,
        certificate: pem,
      };
    });
    const counted = roots.reduce((sum, root) => sum + root.liveLeaves, 0);
    const total = [...facts.liveByIssuer.values()].reduce((sum, n) => sum + n, 0);
    return { stage: 'idle', paused: false, auto: false, propagationSeconds: 0, spreadSeconds: 0, roots, otherLiveLeaves: Math.max(0, total - counted), signers: facts.signers, updatedAt: now };
  }
  const { rotation, signer, standby } = material;
  const roles = new Map<string, RotationRoot['role']>();
  if (standby === undefined) roles.set(signer.fingerprint, 'current');
  else {
    if (rotation.oldFingerprint !== undefined) roles.set(rotation.oldFingerprint, 'old');
    if (rotation.newFingerprint !== undefined) roles.set(rotation.newFingerprint, 'new');
  }
  const roots = [signer, ...(standby === undefined ? [] : [standby])]
    .map((root): RotationRoot => {
      const info = inspectCertificate(root.certificatePem);
      return {
        role: roles.get(root.fingerprint) ?? 'current',
        fingerprint: root.fingerprint,
        subject: info.subject,
        notBefore: root.notBefore.toISOString(),
        notAfter: root.notAfter.toISOString(),
        signing: root === signer,
        trusted: true,
        liveLeaves: facts.liveByIssuer.get(root.fingerprint) ?? 0,
        certificate: root.certificatePem,
      };
    })
    .sort((a, b) => (a.role === 'old' ? -1 : b.role === 'old' ? 1 : 0));
  const counted = roots.reduce((sum, root) => sum + root.liveLeaves, 0);
  const total = [...facts.liveByIssuer.values()].reduce((sum, n) => sum + n, 0);
  const waitingFor = waiting(rotation, facts);
  return {
    stage: rotation.stage,
    ...(rotation.rotationId === undefined ? {} : { rotationId: rotation.rotationId }),
    paused: rotation.paused,
    auto: rotation.auto,
    propagationSeconds: rotation.propagationMs / 1000,
    spreadSeconds: rotation.spreadMs / 1000,
    stageSince: rotation.stageSince,
    ...(waitingFor === undefined ? {} : { waitingFor: waitingFor.reason }),
    ...(waitingFor?.atMs === undefined || !rotation.auto || rotation.paused ? {} : { nextStepAt: new Date(Math.max(waitingFor.atMs, facts.nowMs)).toISOString() }),
    roots,
    otherLiveLeaves: Math.max(0, total - counted),
    signers: facts.signers,
    updatedAt: now,
  };
}

function waiting(state: RotationState, facts: RotationFacts): Readiness | undefined {
  if (state.paused) return { ready: false, reason: 'paused: fsm-certs ca rotation resume' };
  switch (state.stage) {
    case 'prepared': {
      const r = activateReadiness(state, facts);
      return state.auto ? r : { ...r, reason: `${r.ready ? 'ready' : r.reason}; then an admin's activate (fsm-certs ca rotation activate)` };
    }
    case 'activated': {
      const r = dropReadiness(state, facts);
      const spreadEnd = Date.parse(state.stageSince) + state.spreadMs;
      const reason = `${r.reason}${facts.nowMs < spreadEnd ? `; leaves are re-issued until ${new Date(spreadEnd).toISOString()} (spread ${formatDuration(state.spreadMs)})` : ''}`;
      return { ...r, reason: state.auto ? reason : `${reason}; then an admin's retire (fsm-certs ca rotation retire)` };
    }
    case 'rolled-back': {
      const r = dropReadiness(state, facts);
      return { ...r, reason: `${r.reason}; then activate again, or rollback once more to remove the new root` };
    }
    default:
      return undefined;
  }
}

/** The one-line account of a stage change, for the event and the audit log line. */
export function describeStage(stage: string, paused: boolean, action: RootRotationAction): string {
  if (action === 'pause' || action === 'resume') return paused ? `paused in stage ${stage}` : `resumed in stage ${stage}`;
  switch (stage) {
    case 'prepared':
      return 'prepared: a new root is trusted beside the old one, which still signs';
    case 'activated':
      return 'activated: the new root signs; live leaves are re-issued over the spread';
    case 'retired':
      return 'retired: the old root left the trust bundle';
    case 'rolled-back':
      return 'rolled back: the old root signs again; both roots stay trusted';
    case 'idle':
      return 'rolled back: the new root was removed from the trust bundle';
    default:
      return stage;
  }
}
