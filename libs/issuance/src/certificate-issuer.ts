// The life cycle of issue items — smallstep's pipeline shape: look up (idempotency, reuse,
// rotation guard) → issue through the provider → seal the key → store (compare-and-set) and
// announce in one atomic step. A batch does each stage for all its items at once: one lookup
// round trip, signing in CPU-gated slices, one commit round trip per slice. Instead of a lock
// per name, every store is a compare-and-set on the serial the decision was based on: an item
// that lost a race (another job or replica stored first) changes nothing and is decided again
// against the new state, so the outcome is the same as if the two had run one after the other.
import type { CertificateProvider } from '@fsm-certs/providers';
import type {
  BatchLookup,
  BatchWrite,
  CertificateRecord,
  EventStream,
  Inventory,
  IssueBatchStore,
  IssueItem,
  IssueReason,
  KeyEncryptionKey,
  StoreWrite,
} from '@fsm-certs/queue';
import type { Logger } from 'pino';
import type { Clock, RandomSource } from '@fsm-certs/core';
import type { AnnouncementLog } from './announced.js';
import type { CpuGate } from './concurrency.js';
import { CertificateFactory, type IssueSpec, type Started } from './certificate-factory.js';
import { IssuanceError } from './errors.js';
import { decide, decideFresh, type Decision } from './item-decision.js';
import type { NameLock } from './name-lock.js';
import type { RenewAtPolicy } from './renew-at.js';

export interface CertificateIssuerDeps {
  readonly provider: CertificateProvider;
  readonly inventory: Inventory;
  /** The inventory's batch interface: one lookup and one commit per slice of a batch. */
  readonly batchStore: IssueBatchStore;
  readonly events: EventStream;
  readonly kek: KeyEncryptionKey;
  /** Only for the rare paths (rotate jobs, re-announcing on a retry); issue items use compare-and-set. */
  readonly lock: NameLock;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly renewAt: RenewAtPolicy;
  readonly logger: Logger;
  /** Fingerprint of the CA issuing now (from the trust bundle); certs from another CA are not reused. */
  readonly currentIssuerId: () => string | undefined;
  /** Serialises the synchronous (CPU-bound) part of issuance across concurrent items and jobs. */
  readonly cpuGate: CpuGate;
  /** Which serials the event stream already announced (consulted only by retried attempts). */
  readonly announcements: AnnouncementLog;
  /**
   * Sign plain requests first and store them only if their name and request id are new, in one
   * round trip, instead of looking up first (one round trip less per batch). A name that exists
   * after all is looked up and answered as usual (reuse), at the cost of the signature made in
   * vain: only for providers that sign locally and cheaply (Tresor), never Vault or cert-manager.
   */
  readonly optimisticNewNames?: boolean;
}

/** How this attempt relates to earlier ones of the same job. */
export interface AttemptContext {
  /** True when an earlier attempt may have stored a cert without announcing it (crash, retry). */
  readonly mayBeRetry: boolean;
  readonly signal?: AbortSignal;
}

/**
 * remembered: this request id was answered before (retry); reused: a current cert with the same
 * parameters answers it; current: a rotation found the serial already replaced; issued: new cert.
 */
export interface ItemOutcome {
  readonly kind: 'remembered' | 'reused' | 'current' | 'issued';
  readonly record: CertificateRecord;
}

/** One item's answer: an outcome, or the failure the processor maps into the job result. */
export type ItemAnswer = { readonly ok: true; readonly outcome: ItemOutcome } | { readonly ok: false; readonly error: unknown };

export type RotationOutcome =
  | { readonly kind: 'rotated' | 'already-rotated' | 'superseded'; readonly record: CertificateRecord }
  | { readonly kind: 'not-found' };

/** An item of a batch on its way to an answer. */
interface Work {
  readonly index: number;
  readonly item: IssueItem;
  /** Store races lost so far; bounded so a name rewritten in a tight loop cannot spin a batch. */
  races: number;
  /** Written without a lookup in the current round (optimisticNewNames); once refused, it looks up. */
  guessed: boolean;
  mayGuess: boolean;
}

/** A write waiting for its commit, and the outcome it stands for once applied. */
interface PendingWrite {
  readonly work: Work;
  readonly write: BatchWrite;
  readonly outcome: ItemOutcome;
}

/** What a round that does not look up assumes: the request id and the name are new. */
const NOTHING_KNOWN: BatchLookup = { marker: undefined, current: undefined };

/** Races one item may lose before it fails with NAME_BUSY (retryable). */
const MAX_STORE_RACES = 5;
/** CPU one slice of a batch may spend signing before the event loop gets a turn. */
const SLICE_BUDGET_MS = 8;
/**
 * Items started per slice: bounds a commit's size and, for network providers (Vault,
 * cert-manager), the requests one batch has in flight at once.
 */
const MAX_SLICE = 32;

export class CertificateIssuer {
  private readonly factory: CertificateFactory;

  constructor(private readonly deps: CertificateIssuerDeps) {
    this.factory = new CertificateFactory({ ...deps, sealKeyAsDer: deps.batchStore.recordFormat !== 'full' });
  }

  /** Answers one item of an `issue` job. Throws on failure; the caller maps it per item. */
  async handleItem(item: IssueItem, attempt: AttemptContext): Promise<ItemOutcome> {
    const [answer] = await this.handleItems([item], attempt);
    if (answer === undefined) throw new IssuanceError('INTERNAL', `Request ${item.requestId} was left unanswered; this is a bug in the ca-service.`);
    if (!answer.ok) throw answer.error;
    return answer.outcome;
  }

  /**
   * Answers every item of a batch, in order; a failing item fails only itself. Items for the
   * same name are decided one after the other (each sees what the previous one stored).
   */
  async handleItems(items: readonly IssueItem[], attempt: AttemptContext): Promise<ItemAnswer[]> {
    const answers = new Array<ItemAnswer | undefined>(items.length);
    let queue: Work[] = items.map((item, index) => ({ index, item, races: 0, guessed: false, mayGuess: true }));
    while (queue.length > 0) {
      const round: Work[] = [];
      const later: Work[] = [];
      const names = new Set<string>();
      for (const work of queue) {
        if (names.has(work.item.commonName)) {
          // Its name is being written this round: no guess that it is new.
          work.mayGuess = false;
          later.push(work);
        }
        else {
          names.add(work.item.commonName);
          round.push(work);
        }
      }
      let lost: Work[] = [];
      try {
        lost = await this.runRound(round, attempt, answers);
      } catch (error) {
        // The lookup failed (Redis unavailable): every item of the round still open fails with it.
        for (const work of round) answers[work.index] ??= { ok: false, error };
      }
      for (const work of lost) {
        // A guess that the name was new is no race lost: the item now looks up like any other.
        if (work.guessed) {
          work.guessed = false;
          later.push(work);
          continue;
        }
        work.races += 1;
        if (work.races < MAX_STORE_RACES) later.push(work);
        else {
          answers[work.index] = {
            ok: false,
            error: new IssuanceError(
              'NAME_BUSY',
              `"${work.item.commonName}" kept changing while it was being issued (${MAX_STORE_RACES} store races lost); the job will be retried. If this persists, look for a client re-issuing it in a loop.`,
            ),
          };
        }
      }
      queue = later.sort((a, b) => a.index - b.index);
    }
    return answers.map(
      (answer, i) => answer ?? { ok: false, error: new IssuanceError('INTERNAL', `Request ${items[i]?.requestId ?? '?'} was left unanswered; this is a bug in the ca-service.`) },
    );
  }

  /** One lookup for the round, signing in slices, one commit per slice. Returns the items that lost a store race. */
  private async runRound(round: readonly Work[], attempt: AttemptContext, answers: Array<ItemAnswer | undefined>): Promise<Work[]> {
    // A round of plain requests none of which was refused as a guess before is issued without
    // looking up (see optimisticNewNames); the commit refuses any whose name or request id exists.
    const guess = this.deps.optimisticNewNames === true && !attempt.mayBeRetry && round.every((w) => w.mayGuess && w.item.reason === 'request');
    for (const work of round) {
      work.guessed = guess;
      if (guess) work.mayGuess = false;
    }
    const lookups: readonly BatchLookup[] = guess ? round.map(() => NOTHING_KNOWN) : await this.deps.batchStore.lookup(round.map((work) => work.item));
    const context = { nowMs: this.deps.clock.now(), currentIssuerId: this.deps.currentIssuerId() };
    const writes: PendingWrite[] = [];
    const toIssue: Array<{ readonly work: Work; readonly current: CertificateRecord | undefined }> = [];
    /** Retried items re-announcing a cert stored before a crash (rare): concurrently, names are unique per round. */
    const reannouncing: Array<Promise<void>> = [];
    for (let i = 0; i < round.length; i++) {
      const work = round[i];
      const lookup = lookups[i];
      if (work === undefined || lookup === undefined) continue;
      try {
        // Only this item fails: its name holds a record nobody can read (delete it, then issue).
        if (lookup.unreadable !== undefined) throw lookup.unreadable;
        let decision: Decision = decide(work.item, lookup, context);
        if (decision.kind === 'marker-elsewhere') {
          const record = await this.deps.inventory.findByRequestId(work.item.requestId);
          decision = record !== undefined ? { kind: 'remembered', record } : decideFresh(work.item, lookup.current, context);
        }
        switch (decision.kind) {
          case 'remembered': {
            const { record } = decision;
            const answer: ItemAnswer = { ok: true, outcome: { kind: 'remembered', record } };
            if (!attempt.mayBeRetry) answers[work.index] = answer;
            else {
              // Under the name's lock, so two retried items answered by one cert announce it once.
              const reason = work.item.reason;
              reannouncing.push(
                this.deps.lock.withLock(record.commonName, () => this.announceIfMissing(record, reason)).then(
                  () => void (answers[work.index] = answer),
                  (error: unknown) => void (answers[work.index] = { ok: false, error }),
                ),
              );
            }
            break;
          }
          case 'reused':
          case 'current': {
            const { record } = decision;
            const write: BatchWrite = { kind: 'remember', commonName: record.commonName, serialNumber: record.serialNumber, requestId: work.item.requestId };
            writes.push({ work, write, outcome: { kind: decision.kind, record } });
            break;
          }
          case 'issue':
            toIssue.push({ work, current: decision.current });
            break;
          case 'fail':
          case 'marker-elsewhere':
            answers[work.index] = { ok: false, error: decision.kind === 'fail' ? decision.error : new IssuanceError('INTERNAL', 'unresolved request marker') };
            break;
        }
      } catch (error) {
        answers[work.index] = { ok: false, error };
      }
    }

    const lost: Work[] = [];
    const commits: Array<Promise<void>> = [];
    let next = 0;
    while (next < toIssue.length) {
      // One gate section starts a slice: providers that sign synchronously (Tresor) do it here,
      // within the budget, so BullMQ's lock renewal and the heartbeat get a turn between slices.
      const slice = await this.deps.cpuGate.run(() => {
        const started: Array<{ readonly work: Work; readonly current: CertificateRecord | undefined; readonly result: Promise<Started> }> = [];
        const begin = performance.now();
        do {
          const entry = toIssue[next];
          next += 1;
          if (entry !== undefined) started.push({ ...entry, result: this.factory.start(entry.work.item, attempt.signal) });
        } while (next < toIssue.length && started.length < MAX_SLICE && performance.now() - begin < SLICE_BUDGET_MS);
        return started;
      });
      const results = await Promise.all(slice.map((s) => s.result));
      slice.forEach(({ work, current }, i) => {
        const result = results[i];
        if (result === undefined) return;
        if (!result.ok) {
          answers[work.index] = { ok: false, error: result.error };
          return;
        }
        try {
          // The request's audit record travels with the certificate (stored by the same commit).
          const write = this.factory.storeWrite(work.item, result.issued, result.keyAlgorithm, current, [work.item.requestId], {
            unlessRequestKnown: work.guessed,
            audit: work.item.audit,
          });
          writes.push({ work, write, outcome: { kind: 'issued', record: write.record } });
        } catch (error) {
          answers[work.index] = { ok: false, error };
        }
      });
      // Not awaited here: the next slice signs while this commit travels.
      commits.push(this.commit(writes.splice(0), answers, lost));
    }
    if (writes.length > 0) commits.push(this.commit(writes.splice(0), answers, lost));
    await Promise.all([...commits, ...reannouncing]);
    return lost;
  }

  private async commit(entries: readonly PendingWrite[], answers: Array<ItemAnswer | undefined>, lost: Work[]): Promise<void> {
    if (entries.length === 0) return;
    let applied: boolean[];
    try {
      applied = await this.deps.batchStore.commit(entries.map((e) => e.write));
    } catch (error) {
      // Unknown whether it was applied: a retried job finds applied items by request id.
      for (const e of entries) answers[e.work.index] = { ok: false, error };
      return;
    }
    entries.forEach((entry, i) => {
      if (applied[i] !== true) {
        // Another job or replica changed the name since the lookup; this cert is discarded
        // unannounced and the item is decided again against what is there now.
        this.deps.logger.debug({ commonName: entry.work.item.commonName }, 'lost a store race; deciding again');
        lost.push(entry.work);
        return;
      }
      answers[entry.work.index] = { ok: true, outcome: entry.outcome };
      if (entry.write.kind === 'store') this.noteStored(entry.write, entry.work.item.reason);
    });
  }

  /** Executes a `rotate` job: replaces serialNumber unless the inventory already moved on. */
  async rotate(
    commonName: string,
    serialNumber: string,
    reason: Exclude<IssueReason, 'request'>,
    attempt: AttemptContext,
  ): Promise<RotationOutcome> {
    return this.deps.lock.withLock(commonName, async () => {
      const current = await this.deps.inventory.get(commonName);
      if (current === undefined) return { kind: 'not-found' };
      if (current.serialNumber !== serialNumber) {
        if (current.previousSerialNumber === serialNumber) {
          if (attempt.mayBeRetry) await this.announceIfMissing(current, reason);
          return { kind: 'already-rotated', record: current };
        }
        return { kind: 'superseded', record: current };
      }
      const spec: IssueSpec = {
        commonName,
        dnsNames: current.dnsNames,
        uris: current.uris,
        ipAddresses: current.ipAddresses,
        validityMs: current.validityMs,
        keyAlgorithm: current.keyAlgorithm,
        reason,
        ...(current.csrPem === undefined ? {} : { csrPem: current.csrPem }),
      };
      if (current.mode === 'csr' && current.csrPem === undefined) {
        throw new IssuanceError(
          'CSR_REQUIRED',
          `"${commonName}" was issued from a CSR that the inventory no longer holds; the workload must request a new certificate.`,
        );
      }
      const [started] = await this.deps.cpuGate.run(() => [this.factory.start(spec, attempt.signal)]);
      const result = started === undefined ? undefined : await started;
      if (result === undefined || !result.ok) throw result?.error ?? new IssuanceError('INTERNAL', `Issuing the rotation of "${commonName}" produced nothing.`);
      const write = this.factory.storeWrite(spec, result.issued, result.keyAlgorithm, current, []);
      const [applied] = await this.deps.batchStore.commit([write]);
      if (applied !== true) {
        // Another writer got in (e.g. an issue item for this name): its cert wins, ours is discarded unannounced.
        const winner = await this.deps.inventory.get(commonName);
        if (winner === undefined) {
          throw new IssuanceError('CERTIFICATE_NOT_FOUND', `"${commonName}" was released while it was being rotated; request it again.`);
        }
        this.deps.logger.warn({ commonName, serialNumber: winner.serialNumber }, 'lost a store race; returning the winner');
        return { kind: 'superseded', record: winner };
      }
      this.noteStored(write, reason);
      return { kind: 'rotated', record: write.record };
    });
  }

  private noteStored(write: StoreWrite, reason: IssueReason): void {
    const { record } = write;
    this.deps.announcements.noteAnnounced(record.serialNumber);
    if (!this.deps.logger.isLevelEnabled('info')) return;
    this.deps.logger.info(
      {
        commonName: record.commonName,
        serialNumber: record.serialNumber,
        previousSerialNumber: record.previousSerialNumber,
        reason,
        renewAt: record.renewAt,
      },
      record.previousSerialNumber === undefined ? 'issued' : 'rotated',
    );
  }

  /**
   * A crash between "stored" and "announced" would leave a cert nobody heard of. Only a retried
   * attempt can be in that state, so only it pays for looking the announcement up.
   */
  private async announceIfMissing(record: CertificateRecord, reason: IssueReason): Promise<void> {
    if (await this.deps.announcements.wasAnnounced(record.serialNumber)) return;
    this.deps.logger.warn({ commonName: record.commonName, serialNumber: record.serialNumber }, 'announcing a cert stored before a crash');
    await this.deps.events.publish(this.factory.eventFor(record, reason));
    this.deps.announcements.noteAnnounced(record.serialNumber);
  }
}
