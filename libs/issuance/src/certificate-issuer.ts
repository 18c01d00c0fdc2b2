// The life cycle of one issue item — smallstep's pipeline shape: look up (idempotency, reuse,
// rotation guard) → issue through the provider → seal the key → store (compare-and-set) →
// announce. Everything for one name runs under its NameLock, so "is the current cert still
// the one to rotate?" and "store the new one" cannot interleave with another job for that name.
import type { CertificateProvider, IssuedCertificate } from '@fsm-certs/providers';
import {
  sealPrivateKey,
  type CertificateRecord,
  type CertEvent,
  type EventStream,
  type Inventory,
  type IssueItem,
  type IssueReason,
  type KeyEncryptionKey,
} from '@fsm-certs/queue';
import { parseCsr, type KeyAlgorithm } from '@fsm-certs/x509';
import type { Logger } from 'pino';
import type { Clock, RandomSource } from './clock.js';
import type { AnnouncementLog } from './announced.js';
import type { CpuGate } from './concurrency.js';
import { IssuanceError } from './errors.js';
import type { NameLock } from './name-lock.js';
import type { RenewAtPolicy } from './renew-at.js';
import { isReusable } from './reuse.js';

/** What to issue, independent of which request asked: an item or a rotation of a record. */
type IssueSpec = Omit<IssueItem, 'requestId' | 'expectSerial'>;

export interface CertificateIssuerDeps {
  readonly provider: CertificateProvider;
  readonly inventory: Inventory;
  readonly events: EventStream;
  readonly kek: KeyEncryptionKey;
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

export type RotationOutcome =
  | { readonly kind: 'rotated' | 'already-rotated' | 'superseded'; readonly record: CertificateRecord }
  | { readonly kind: 'not-found' };

export class CertificateIssuer {
  constructor(private readonly deps: CertificateIssuerDeps) {}

  /** Answers one item of an `issue` job. Throws on failure; the caller maps it per item. */
  async handleItem(item: IssueItem, attempt: AttemptContext): Promise<ItemOutcome> {
    const remembered = await this.deps.inventory.findByRequestId(item.requestId);
    if (remembered !== undefined) {
      // Under the name's lock, so two retried items answered by one cert announce it once.
      if (attempt.mayBeRetry) await this.deps.lock.withLock(remembered.commonName, () => this.announceIfMissing(remembered, item.reason));
      return { kind: 'remembered', record: remembered };
    }
    return this.deps.lock.withLock(item.commonName, async () => {
      const current = await this.deps.inventory.get(item.commonName);
      if (item.reason === 'request') {
        const context = { nowMs: this.deps.clock.now(), currentIssuerId: this.deps.currentIssuerId() };
        if (current !== undefined && isReusable(current, item, context)) {
          await this.deps.inventory.rememberRequest(item.requestId, current.commonName, current.serialNumber);
          return { kind: 'reused', record: current };
        }
      } else if (item.expectSerial !== undefined && current !== undefined && current.serialNumber !== item.expectSerial) {
        // Someone rotated it since the rotation was requested: never rotate twice.
        await this.deps.inventory.rememberRequest(item.requestId, current.commonName, current.serialNumber);
        return { kind: 'current', record: current };
      } else if (item.reason === 'rotate-scheduled' && current === undefined) {
        throw new IssuanceError(
          'CERTIFICATE_NOT_FOUND',
          `"${item.commonName}" was released before its scheduled rotation ran; nothing to rotate.`,
        );
      }
      const record = await this.issueAndStore(item, current, [item.requestId], attempt.signal);
      return { kind: 'issued', record };
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
      const record = await this.issueAndStore(spec, current, [], attempt.signal);
      return { kind: 'rotated', record };
    });
  }

  private async issueAndStore(
    item: IssueSpec,
    current: CertificateRecord | undefined,
    requestIds: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<CertificateRecord> {
    // Providers like Tresor generate keys and sign synchronously inside issue(): run that part
    // through the CPU gate (one per event-loop turn) so BullMQ's lock renewal and the heartbeat
    // keep running during a big batch. Only the synchronous start is gated; a provider's network
    // wait (Vault, cert-manager) happens outside, concurrently.
    const { keyAlgorithm, pending } = await this.deps.cpuGate.run(() => {
      const algorithm: KeyAlgorithm = item.csrPem === undefined ? item.keyAlgorithm : parseCsr(item.csrPem).keyAlgorithm;
      const request = {
        commonName: item.commonName,
        dnsNames: item.dnsNames,
        uris: item.uris,
        ipAddresses: item.ipAddresses,
        validityMs: item.validityMs,
        keyAlgorithm: algorithm,
        ...(item.csrPem === undefined ? {} : { csrPem: item.csrPem }),
      };
      return { keyAlgorithm: algorithm, pending: this.deps.provider.issue(request, signal) };
    });
    const issued = await pending;
    const record = this.toRecord(item, issued, keyAlgorithm);
    const put = await this.deps.inventory.put(record, {
      expectSerial: current?.serialNumber ?? null,
      requestIds,
    });
    if (!put.stored) {
      // Another writer got in despite the lock (e.g. our lock lapsed during a long stall): its
      // cert wins and ours is discarded unannounced, so the name still has exactly one current cert.
      const winner = await this.deps.inventory.get(item.commonName);
      if (winner === undefined) {
        throw new IssuanceError('CERTIFICATE_NOT_FOUND', `"${item.commonName}" was released while it was being issued; request it again.`);
      }
      this.deps.logger.warn({ commonName: item.commonName, serialNumber: winner.serialNumber }, 'lost a store race; returning the winner');
      for (const id of requestIds) await this.deps.inventory.rememberRequest(id, winner.commonName, winner.serialNumber);
      return winner;
    }
    const stored: CertificateRecord =
      current === undefined ? record : { ...record, previousSerialNumber: current.serialNumber };
    await this.deps.events.publish(this.eventFor(stored, item.reason));
    this.deps.announcements.noteAnnounced(stored.serialNumber);
    this.deps.logger.info(
      {
        commonName: stored.commonName,
        serialNumber: stored.serialNumber,
        previousSerialNumber: stored.previousSerialNumber,
        reason: item.reason,
        renewAt: stored.renewAt,
      },
      current === undefined ? 'issued' : 'rotated',
    );
    return stored;
  }

  private toRecord(item: IssueSpec, issued: IssuedCertificate, keyAlgorithm: KeyAlgorithm): CertificateRecord {
    const renewAt = this.deps.renewAt(issued.notBefore, issued.notAfter, this.deps.random);
    const sealed =
      issued.privateKeyPem === undefined
        ? undefined
        : sealPrivateKey(this.deps.kek, issued.privateKeyPem, issued.commonName, issued.serialNumber);
    return {
      commonName: item.commonName,
      serialNumber: issued.serialNumber,
      notBefore: issued.notBefore.toISOString(),
      notAfter: issued.notAfter.toISOString(),
      renewAt: renewAt.toISOString(),
      certificatePem: issued.certificatePem,
      chainPem: [...issued.chainPem],
      issuingCaPem: issued.issuingCaPem,
      trustedCasPem: [...issued.trustedCasPem],
      issuerId: issued.issuerId,
      provider: issued.provider,
      keyAlgorithm,
      mode: item.csrPem === undefined ? 'server-key' : 'csr',
      dnsNames: [...item.dnsNames],
      uris: [...item.uris],
      ipAddresses: [...item.ipAddresses],
      validityMs: item.validityMs,
      ...(item.csrPem === undefined ? {} : { csrPem: item.csrPem }),
      ...(sealed === undefined ? {} : { encryptedPrivateKey: sealed }),
      issuedAt: new Date(this.deps.clock.now()).toISOString(),
      warnings: [...issued.warnings],
    };
  }

  private eventFor(record: CertificateRecord, reason: IssueReason): CertEvent {
    const at = new Date(this.deps.clock.now()).toISOString();
    if (record.previousSerialNumber === undefined) {
      return { version: 1, kind: 'issued', at, commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter };
    }
    return {
      version: 1,
      kind: 'rotated',
      at,
      commonName: record.commonName,
      serialNumber: record.serialNumber,
      previousSerialNumber: record.previousSerialNumber,
      notAfter: record.notAfter,
      reason,
    };
  }

  /**
   * A crash between "stored" and "announced" would leave a cert nobody heard of. Only a retried
   * attempt can be in that state, so only it pays for looking the announcement up.
   */
  private async announceIfMissing(record: CertificateRecord, reason: IssueReason): Promise<void> {
    if (await this.deps.announcements.wasAnnounced(record.serialNumber)) return;
    this.deps.logger.warn({ commonName: record.commonName, serialNumber: record.serialNumber }, 'announcing a cert stored before a crash');
    await this.deps.events.publish(this.eventFor(record, reason));
    this.deps.announcements.noteAnnounced(record.serialNumber);
  }
}
