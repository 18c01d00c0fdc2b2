// The staged root rotation's controller, one per ca-service replica. Every tick each replica
// re-reads the CA bundle secret (so its signer follows the stored stage), republishes the trust
// bundle when it changed, and records which root it signs with. The replica holding the lease
// then makes one pass: counts live leaves per root, re-issues leaves due to move (spread over the
// window, through the ordinary `rotate` queue), notes when the leaving root has drained, takes the
// automatic step whose condition holds, and publishes the status served at GET /v1/ca/rotation.
// A pass costs O(leaves that move), from the live-leaf index (pass-leaves.ts), except when it is
// about to act on the leaving root having drained: that reads every record once.
import type { Logger } from 'pino';
import type { Clock } from '@fsm-certs/core';
import { DEFAULT_PROPAGATION_MS, DEFAULT_SPREAD_MS, ProviderError, TresorProvider, type CertificateProvider, type RotationStep } from '@fsm-certs/providers';
import {
  AuditLog,
  rotateJobId,
  type EventStream,
  type RootRotationAction,
  type RootRotationJobPayload,
  type RootRotationStatus,
  type RotateQueue,
  type RotationStatusStore,
} from '@fsm-certs/queue';
import type { Issuer } from '@fsm-certs/x509';
import { IssuanceError } from '../errors.js';
import { activateReadiness, drained, dropReadiness, leavingRoot, type Readiness, type RotationFacts } from './conditions.js';
import type { ScanPlan } from './leaf-scan.js';
import { PassLeafSource, type PassInventory, type PassLeaves } from './pass-leaves.js';
import { describeStage, rotationStatus, type PublishedBundle } from './status-view.js';

export { DEFAULT_IDLE_SCAN_SPACING } from './pass-leaves.js';

export const DEFAULT_ROTATION_TICK_MS = 2_000;
/** Most rotate jobs one pass enqueues; the rest follow on the next passes. */
const MAX_ENQUEUE_PER_PASS = 500;
/** A failed re-issue is tried again after this long. */
const RETRY_FAILED_AFTER_MS = 30_000;


export interface RootRotationControllerDeps {
  readonly provider: CertificateProvider;
  readonly inventory: PassInventory;
  readonly events: Pick<EventStream, 'publish'>;
  readonly status: RotationStatusStore;
  readonly rotateQueue: Pick<RotateQueue, 'getJob' | 'add'>;
  /** Live ca-service instance ids (heartbeats). */
  readonly liveInstances: () => Promise<string[]>;
  /** Live issuer-gateway instance ids (heartbeats): without one, agents cannot follow, and the rotation's clock stops. */
  readonly liveGateways: () => Promise<string[]>;
  readonly instanceId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Re-reads the provider's trust bundle into the inventory (announcing a change). */
  readonly resyncTrustBundle: () => Promise<void>;
  /** The audit trail: every stage change is recorded once, with who asked for it. */
  readonly audit?: Pick<AuditLog, 'append'>;
  /** Fingerprint of the CA this replica issues from (non-Tresor providers). */
  readonly currentIssuerId: () => string | undefined;
  /** The bundle this replica published last (non-Tresor providers: the roots of the status). */
  readonly publishedBundle: () => PublishedBundle | undefined;
  readonly tickMs?: number;
  readonly idleScanSpacing?: { readonly factor: number; readonly minScanMs: number };
}

interface Pass {
  readonly facts: RotationFacts;
  readonly leaves: PassLeaves;
}

/** 'pass': a tick's pass (or the pass after an action); 'drop': an admin's retire or rollback is about to be judged. */
type Purpose = 'pass' | 'drop';

export class RootRotationController {
  private readonly tresor: TresorProvider | undefined;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly leafSource: PassLeafSource;

  constructor(private readonly deps: RootRotationControllerDeps) {
    this.tresor = deps.provider instanceof TresorProvider ? deps.provider : undefined;
    this.tickMs = deps.tickMs ?? DEFAULT_ROTATION_TICK_MS;
    this.leafSource = new PassLeafSource({ inventory: deps.inventory, logger: deps.logger, ...(deps.idleScanSpacing === undefined ? {} : { idleScanSpacing: deps.idleScanSpacing }) });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tickOnce(), this.tickMs);
    // Never keeps a stopping process alive.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.deps.status.removeSigner(this.deps.instanceId).catch(() => undefined);
  }

  /**
   * The first tick at start-up, waited for at most maxWaitMs: on a large inventory its leaf
   * scan would otherwise hold the replica's readiness for as long as it reads every record.
   * It goes on in the background; the periodic ticks never overlap it.
   */
  async firstTick(maxWaitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
      timer.unref();
    });
    await Promise.race([this.tickOnce(), waited]);
    clearTimeout(timer);
  }

  /** One tick, never two at once; failures are logged and the next tick tries again. */
  tickOnce(): Promise<void> {
    this.running ??= this.tick()
      .catch((error: unknown) => this.deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'root rotation tick failed; retrying on the next one'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async tick(): Promise<void> {
    await this.follow();
    if (!(await this.deps.status.takeLease(this.deps.instanceId, this.tickMs * 3))) return;
    await this.pass();
  }

  /** Takes what the secret says now; republishes the bundle and our signer when it changed. */
  private async follow(): Promise<void> {
    if (this.tresor !== undefined && (await this.tresor.reload())) {
      const { rotation, signer } = this.tresor.material;
      this.deps.logger.info({ stage: rotation.stage, rotationId: rotation.rotationId, signer: signer.fingerprint }, 'CA bundle secret changed: following the root rotation');
      await this.deps.resyncTrustBundle();
    }
    const signer = this.signerFingerprint();
    if (signer !== undefined) await this.deps.status.setSigner(this.deps.instanceId, signer);
  }

  private signerFingerprint(): string | undefined {
    return this.tresor?.issuer.fingerprint ?? this.deps.currentIssuerId();
  }

  /** Carries out an admin's action; answers the status after it. */
  async act(payload: RootRotationJobPayload): Promise<RootRotationStatus> {
    const tresor = this.tresor;
    if (tresor === undefined) {
      throw new IssuanceError(
        'ROTATION_UNSUPPORTED',
        `The ${this.deps.provider.kind} provider has no staged root rotation here: rotate the root in ${this.deps.provider.kind === 'vault' ? 'Vault (pki/root/rotate, then make the new issuer the default); the trust bundle follows its issuers' : "cert-manager's Issuer; the trust bundle follows the Issuer's CA"}.`,
      );
    }
    await this.follow();
    const state = tresor.material.rotation;
    // Only these drop a root (the first rollback keeps both): they are judged on every record.
    const drops = payload.action === 'retire' || (payload.action === 'rollback' && state.stage === 'rolled-back');
    const facts = (await this.gather(drops ? 'drop' : 'pass')).facts;
    const step = this.stepFor(payload, facts);
    await this.apply(step, payload.action, false, state.generation, payload.requestedBy);
    return this.pass();
  }

  private stepFor(payload: RootRotationJobPayload, facts: RotationFacts): RotationStep {
    const state = this.material().rotation;
    const conflict = (readiness: Readiness, what: string): ProviderError =>
      new ProviderError('ROTATION_CONFLICT', `Cannot ${what} yet: ${readiness.reason}. Wait${readiness.atMs === undefined ? '' : ` (until ${new Date(readiness.atMs).toISOString()} at the earliest)`}, or send force: true (workloads may fail handshakes).`);
    switch (payload.action) {
      case 'start':
        return { kind: 'prepare', propagationMs: payload.propagationMs ?? DEFAULT_PROPAGATION_MS, spreadMs: payload.spreadMs ?? DEFAULT_SPREAD_MS, auto: payload.auto ?? false };
      case 'activate': {
        const readiness = activateReadiness(state, facts);
        if (!readiness.ready && payload.force !== true && (state.stage === 'prepared' || state.stage === 'rolled-back')) throw conflict(readiness, 'activate');
        return { kind: 'activate' };
      }
      case 'retire': {
        const readiness = dropReadiness(state, facts);
        if (!readiness.ready && payload.force !== true && state.stage === 'activated') throw conflict(readiness, 'retire the old root');
        return { kind: 'retire' };
      }
      case 'rollback': {
        if (state.stage === 'rolled-back' && payload.force !== true) {
          const readiness = dropReadiness(state, facts);
          if (!readiness.ready) throw conflict(readiness, 'remove the new root');
        }
        return { kind: 'rollback' };
      }
      case 'pause':
        return { kind: 'flags', paused: true };
      case 'resume':
        return { kind: 'flags', paused: false };
    }
  }

  private material() {
    if (this.tresor === undefined) throw new IssuanceError('INTERNAL', 'root rotation material asked of a provider without one');
    return this.tresor.material;
  }

  /** Applies a step to the secret, republishes the bundle, and announces the stage. */
  private async apply(step: RotationStep, action: RootRotationAction, auto: boolean, generation: number, requestedBy?: string): Promise<void> {
    const tresor = this.tresor;
    if (tresor === undefined) return;
    const before = tresor.material.rotation;
    const after = (await tresor.applyRotationStep(step, generation)).rotation;
    await this.deps.status.setSigner(this.deps.instanceId, tresor.issuer.fingerprint);
    // The bundle first: an agent acting on the stage event reads a bundle that already has it.
    await this.deps.resyncTrustBundle();
    const detail = describeStage(after.stage, after.paused, action);
    const atMs = this.deps.clock.now();
    await this.deps.audit?.append(
      AuditLog.caRecord({
        atMs,
        outcome: 'root-rotation-stage',
        operation: `rootRotation.${action}`,
        caller: requestedBy,
        provider: this.deps.provider.kind,
        issuerId: tresor.issuer.fingerprint,
      }),
    );
    await this.deps.events.publish({
      version: 1,
      kind: 'root-rotation-stage',
      at: new Date(this.deps.clock.now()).toISOString(),
      stage: after.stage,
      previousStage: before.stage,
      action,
      auto,
      ...(after.rotationId === undefined ? {} : { rotationId: after.rotationId }),
      issuerId: tresor.issuer.fingerprint,
      paused: after.paused,
      detail,
    });
    this.deps.logger.info(
      { audit: true, action, auto, requestedBy: requestedBy ?? (auto ? 'auto' : 'unknown'), from: before.stage, to: after.stage, paused: after.paused, rotationId: after.rotationId, signer: tresor.issuer.fingerprint },
      `root rotation: ${detail}`,
    );
  }

  private async gather(purpose: Purpose = 'pass'): Promise<Pass> {
    const nowMs = this.deps.clock.now();
    const signer = this.signerFingerprint() ?? '';
    const plan = this.scanPlan(nowMs);
    const moving = this.tresor !== undefined && leavingRoot(this.tresor.material.rotation) !== undefined;
    const [indexed, liveInstances] = await Promise.all([this.leafSource.fromIndex(nowMs, plan, moving), this.deps.liveInstances()]);
    const signers = await this.deps.status.signers(liveInstances);
    const leaving = this.tresor === undefined ? undefined : leavingRoot(this.tresor.material.rotation);
    const leavingRoot_ = leaving === undefined ? undefined : this.rootByFingerprint(leaving);
    const facts: RotationFacts = {
      nowMs,
      signer,
      liveByIssuer: indexed.liveByIssuer,
      signers,
      liveInstances,
      ...(leavingRoot_ === undefined ? {} : { leavingRootNotAfterMs: leavingRoot_.notAfter.getTime() }),
    };
    if (indexed.source === 'records' || !this.actsOnDrain(facts, purpose)) return { facts, leaves: indexed };
    const read = await this.leafSource.fromRecords(nowMs, plan, indexed.liveByIssuer);
    return { facts: { ...facts, liveByIssuer: read.liveByIssuer }, leaves: read };
  }

  /**
   * Whether this pass would act on the index saying the leaving root has drained: note the drain
   * time, take the automatic retire, or judge an admin's retire or rollback. Those rest on every
   * record, read once (the index may miss a leaf an older replica stored); waiting out the
   * propagation period after the drain, or for an admin, reads none.
   */
  private actsOnDrain(facts: RotationFacts, purpose: Purpose): boolean {
    if (this.tresor === undefined) return false;
    const state = this.tresor.material.rotation;
    if (leavingRoot(state) === undefined || !drained(state, facts).drained) return false;
    if (state.drainedAt === undefined || purpose === 'drop') return true;
    return state.auto && !state.paused && state.stage === 'activated' && dropReadiness(state, facts).ready;
  }

  private rootByFingerprint(fingerprint: string): Issuer | undefined {
    const material = this.tresor?.material;
    if (material === undefined) return undefined;
    return [material.signer, material.standby].find((root) => root?.fingerprint === fingerprint);
  }

  private scanPlan(_nowMs: number): ScanPlan | undefined {
    const material = this.tresor?.material;
    if (material === undefined) return undefined;
    const { rotation, signer } = material;
    const leaving = leavingRoot(rotation);
    if (leaving === undefined || rotation.paused) return undefined;
    return {
      signer: signer.fingerprint,
      spreadFrom: new Set([leaving]),
      windowStartMs: Date.parse(rotation.stageSince),
      spreadMs: rotation.spreadMs,
      salt: `${rotation.rotationId ?? ''}/${rotation.stage}/${rotation.stageSince}`,
      trusted: new Set([leaving]),
    };
  }

  /** The lease holder's pass; also run after an action so its answer is fresh. */
  private async pass(): Promise<RootRotationStatus> {
    let gathered = await this.gather();
    if (this.tresor !== undefined) {
      const stepped = await this.advance(gathered.facts);
      if (stepped) gathered = await this.gather();
      await this.reissue(gathered.leaves);
    }
    const status = this.statusOf(gathered.facts);
    await this.deps.status.publish(status);
    return status;
  }

  /** Notes drain times and takes the automatic step whose condition holds; true when the stage moved. */
  private async advance(facts: RotationFacts): Promise<boolean> {
    const state = this.material().rotation;
    try {
      if (state.stage === 'prepared' || leavingRoot(state) !== undefined) {
        const live = (await this.deps.liveGateways()).length > 0;
        if (!live && state.gatewayDownAt === undefined) {
          this.deps.logger.warn({ stage: state.stage }, 'root rotation: no issuer-gateway is live; agents cannot follow, so the rotation waits');
          await this.tresor?.applyRotationStep({ kind: 'flags', gatewayDownAt: new Date(facts.nowMs).toISOString() }, state.generation);
          return false;
        }
        if (live && state.gatewayDownAt !== undefined) {
          this.deps.logger.info({ stage: state.stage }, 'root rotation: an issuer-gateway is back; the propagation period starts again');
          await this.tresor?.applyRotationStep({ kind: 'flags', gatewayDownAt: null, clockFrom: new Date(facts.nowMs).toISOString() }, state.generation);
          return false;
        }
      }
      if (leavingRoot(state) !== undefined) {
        const d = drained(state, facts);
        if (d.drained && state.drainedAt === undefined) {
          await this.tresor?.applyRotationStep({ kind: 'flags', drainedAt: new Date(facts.nowMs).toISOString() }, state.generation);
          return false;
        }
        if (!d.drained && state.drainedAt !== undefined) {
          await this.tresor?.applyRotationStep({ kind: 'flags', drainedAt: null }, state.generation);
          return false;
        }
      }
      if (!state.auto || state.paused) return false;
      if (state.stage === 'prepared' && activateReadiness(state, facts).ready) {
        await this.apply({ kind: 'activate' }, 'activate', true, state.generation);
        return true;
      }
      if (state.stage === 'activated' && dropReadiness(state, facts).ready) {
        await this.apply({ kind: 'retire' }, 'retire', true, state.generation);
        return true;
      }
    } catch (error) {
      // Another replica or an admin moved first: the next pass decides again.
      if (error instanceof ProviderError && error.code === 'ROTATION_CONFLICT') return false;
      throw error;
    }
    return false;
  }

  /** Enqueues the re-issue of every leaf whose time in the spread has come. */
  private async reissue(leaves: PassLeaves): Promise<void> {
    const nowMs = this.deps.clock.now();
    let enqueued = 0;
    for await (const leaf of leaves.due(nowMs)) {
      if (leaf.dueAtMs > nowMs) continue;
      if (enqueued >= MAX_ENQUEUE_PER_PASS) break;
      const jobId = rotateJobId(leaf.commonName, leaf.serialNumber);
      const existing = await this.deps.rotateQueue.getJob(jobId);
      if (existing !== undefined) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed') continue;
        if (state === 'failed' && nowMs - (existing.finishedOn ?? 0) < RETRY_FAILED_AFTER_MS) continue;
        await existing.remove().catch(() => undefined);
      }
      await this.deps.rotateQueue.add('rotate', { version: 1, commonName: leaf.commonName, serialNumber: leaf.serialNumber, reason: 'root-rotation' }, { jobId });
      enqueued += 1;
    }
    if (enqueued > 0) this.deps.logger.info({ enqueued, moving: leaves.moving, from: leaves.source }, 'root rotation: re-issuing leaves');
  }

  private statusOf(facts: RotationFacts): RootRotationStatus {
    return rotationStatus(this.tresor?.material, this.deps.publishedBundle(), facts);
  }
}
