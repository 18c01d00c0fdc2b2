// The steps of a staged root rotation as changes to the CA bundle secret's data. Pure except for
// prepare, which generates the new root. Which step applies when (conditions on live leaves and
// replicas) is decided by the ca-service's controller; here only the stage order is enforced.
import { randomBytes } from 'node:crypto';
import { createRootCa, type Issuer } from '@fsm-certs/x509';
import { ProviderError } from '../errors.js';
import { CA_CERT_KEY, CA_PRIVATE_KEY_KEY } from './ca-bundle.js';
import {
  ROTATION_STATE_KEY,
  STANDBY_CERT_KEY,
  STANDBY_PRIVATE_KEY_KEY,
  encodeRotationState,
  type RotationState,
  type TresorRotationStage,
} from './rotation-state.js';

export type SecretData = Readonly<Record<string, Buffer>>;

export type RotationStep =
  | { readonly kind: 'prepare'; readonly propagationMs: number; readonly spreadMs: number; readonly auto: boolean }
  | { readonly kind: 'activate' }
  | { readonly kind: 'retire' }
  | { readonly kind: 'rollback' }
  | {
      readonly kind: 'flags';
      readonly paused?: boolean;
      readonly auto?: boolean;
      readonly drainedAt?: string | null;
      readonly gatewayDownAt?: string | null;
      readonly clockFrom?: string;
    };

export interface StepContext {
  readonly state: RotationState;
  readonly data: SecretData;
  readonly signer: Issuer;
  readonly now: Date;
  /** Validity of a generated root. */
  readonly rootValidityMs?: number;
}

function refuse(state: RotationState, step: string, allowed: readonly TresorRotationStage[]): ProviderError {
  return new ProviderError(
    'ROTATION_CONFLICT',
    `Cannot ${step} the root rotation in stage "${state.stage}"; ${step} applies to ${allowed.map((s) => `"${s}"`).join(' or ')}. See GET /v1/ca/rotation (fsm-certs ca rotation status).`,
  );
}

function withoutStandby(data: SecretData): Record<string, Buffer> {
  const { [STANDBY_CERT_KEY]: _c, [STANDBY_PRIVATE_KEY_KEY]: _k, ...rest } = data;
  return { ...rest };
}

function swapped(data: SecretData): Record<string, Buffer> {
  const cert = data[STANDBY_CERT_KEY];
  const key = data[STANDBY_PRIVATE_KEY_KEY];
  const signerCert = data[CA_CERT_KEY];
  const signerKey = data[CA_PRIVATE_KEY_KEY];
  if (cert === undefined || key === undefined || signerCert === undefined || signerKey === undefined) {
    throw new ProviderError('CA_BUNDLE_INVALID', `The CA bundle secret lacks ${STANDBY_CERT_KEY} / ${STANDBY_PRIVATE_KEY_KEY} although its rotation stage needs them; roll the rotation back or restore the secret.`);
  }
  return { ...data, [CA_CERT_KEY]: cert, [CA_PRIVATE_KEY_KEY]: key, [STANDBY_CERT_KEY]: signerCert, [STANDBY_PRIVATE_KEY_KEY]: signerKey };
}

/** The secret's data after `step`; throws ROTATION_CONFLICT when the stage does not allow it. */
export function applyStep(step: RotationStep, ctx: StepContext): Record<string, Buffer> {
  const { state, data, now } = ctx;
  const next = (changes: Partial<RotationState>, stageChange: boolean): RotationState => {
    const merged: RotationState = { ...state, ...changes, generation: state.generation + 1 };
    if (stageChange) {
      merged.stageSince = now.toISOString();
      delete merged.drainedAt;
      delete merged.clockFrom;
    }
    return merged;
  };
  const encode = (body: Record<string, Buffer>, nextState: RotationState): Record<string, Buffer> => ({ ...body, [ROTATION_STATE_KEY]: encodeRotationState(nextState) });
  switch (step.kind) {
    case 'prepare': {
      if (state.stage !== 'idle' && state.stage !== 'retired') throw refuse(state, 'start', ['idle', 'retired']);
      const root = createRootCa({
        keyAlgorithm: ctx.signer.keyAlgorithm,
        now,
        ...(ctx.rootValidityMs === undefined ? {} : { validityMs: ctx.rootValidityMs }),
      });
      const nextState = next(
        {
          stage: 'prepared',
          rotationId: `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(3).toString('hex')}`,
          paused: false,
          auto: step.auto,
          propagationMs: step.propagationMs,
          spreadMs: step.spreadMs,
          oldFingerprint: ctx.signer.fingerprint,
          newFingerprint: root.issuer.fingerprint,
        },
        true,
      );
      return encode({ ...data, [STANDBY_CERT_KEY]: Buffer.from(root.certificatePem), [STANDBY_PRIVATE_KEY_KEY]: Buffer.from(root.privateKeyPem) }, nextState);
    }
    case 'activate':
      if (state.stage !== 'prepared' && state.stage !== 'rolled-back') throw refuse(state, 'activate', ['prepared', 'rolled-back']);
      return encode(swapped(data), next({ stage: 'activated' }, true));
    case 'retire':
      if (state.stage !== 'activated') throw refuse(state, 'retire', ['activated']);
      return encode(withoutStandby(data), next({ stage: 'retired', auto: false, paused: false }, true));
    case 'rollback':
      if (state.stage === 'activated') return encode(swapped(data), next({ stage: 'rolled-back', auto: false, paused: false }, true));
      if (state.stage === 'prepared' || state.stage === 'rolled-back') return encode(withoutStandby(data), next({ stage: 'idle', auto: false, paused: false }, true));
      throw refuse(state, 'roll back', ['prepared', 'activated', 'rolled-back']);
    case 'flags': {
      if (state.stage === 'idle' || state.stage === 'retired') {
        if (step.paused !== undefined || step.auto !== undefined) throw refuse(state, step.paused === true ? 'pause' : 'resume', ['prepared', 'activated', 'rolled-back']);
      }
      const changes: Partial<RotationState> = {};
      if (step.paused !== undefined) changes.paused = step.paused;
      if (step.auto !== undefined) changes.auto = step.auto;
      const nextState = next(changes, false);
      if (step.drainedAt === null) delete nextState.drainedAt;
      else if (step.drainedAt !== undefined) nextState.drainedAt = step.drainedAt;
      if (step.gatewayDownAt === null) delete nextState.gatewayDownAt;
      else if (step.gatewayDownAt !== undefined) nextState.gatewayDownAt = step.gatewayDownAt;
      if (step.clockFrom !== undefined) nextState.clockFrom = step.clockFrom;
      return encode({ ...data }, nextState);
    }
  }
}
