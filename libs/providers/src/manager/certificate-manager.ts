// FSM's certificate manager semantics on top of any CertificateProvider: issue returns the cached
// certificate until it enters its renewal window (or is gone), one issuance in flight per name,
// get is cache-only, rotate forces a new certificate, release forgets one, and every change is
// announced. Time and jitter randomness are injected so tests can move the clock.
import { createHash } from 'node:crypto';
import { DEFAULT_KEY_ALGORITHM, defaultRandom, systemClock, type Clock, type KeyAlgorithm, type RandomSource } from '@fsm-certs/core';
import { ProviderError } from '../errors.js';
import type { CertificateProvider, IssuedCertificate, IssueRequest } from '../provider.js';
import { AnnouncementHub } from './announcements.js';
import type { Announcement } from './announcements.js';
import { computeRenewAt } from './renew-at.js';

export interface ManagedCertificate extends IssuedCertificate {
  /** When this certificate becomes due for renewal; fixed when it was issued. */
  readonly renewAt: Date;
}

export interface ManagerIssueOptions {
  readonly dnsNames?: readonly string[];
  readonly uris?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Default: the manager's validityMs (serviceCertValidityDuration). */
  readonly validityMs?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
  /** CSR mode: the cached certificate is reused only for the same CSR. */
  readonly csrPem?: string;
  readonly signal?: AbortSignal;
}

export interface CertificateManagerOptions {
  readonly provider: CertificateProvider;
  /** Validity of service certificates; default 24h. */
  readonly validityMs?: number;
  /** Key algorithm of server-generated keys; default ecdsa-p256. */
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly clock?: Clock;
  /** Jitter source for renewAt; default Math.random. */
  readonly random?: RandomSource;
  /** Announcements kept per slow subscriber; default 1000. */
  readonly announcementBuffer?: number;
}

interface CacheEntry {
  readonly certificate: ManagedCertificate;
  readonly request: IssueRequest;
  /** Identifies what was asked for, so a different request for the same name is not served stale. */
  readonly requestKey: string;
}

const DAY_MS = 86_400_000;

function requestKey(request: IssueRequest): string {
  const sorted = (values: readonly string[]): string[] => [...values].sort();
  return JSON.stringify([
    sorted(request.dnsNames),
    sorted(request.uris),
    sorted(request.ipAddresses),
    request.validityMs,
    request.csrPem === undefined ? request.keyAlgorithm : createHash('sha256').update(request.csrPem).digest('hex'),
  ]);
}

export class CertificateManager {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<ManagedCertificate>>();
  private readonly hub: AnnouncementHub;
  private readonly provider: CertificateProvider;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly validityMs: number;
  private readonly keyAlgorithm: KeyAlgorithm;

  constructor(options: CertificateManagerOptions) {
    this.provider = options.provider;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? defaultRandom;
    this.validityMs = options.validityMs ?? DAY_MS;
    this.keyAlgorithm = options.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    this.hub = new AnnouncementHub(options.announcementBuffer);
  }

  /** The cached certificate unless it is inside its renewal window, expired or released; otherwise a new one. */
  async issue(commonName: string, options: ManagerIssueOptions = {}): Promise<ManagedCertificate> {
    const request = this.buildRequest(commonName, options);
    const key = requestKey(request);
    for (;;) {
      const pending = this.inFlight.get(commonName);
      if (pending === undefined) break;
      // Single flight: join the issuance already running for this name.
      const joined = await pending;
      if (this.cache.get(commonName)?.requestKey === key && this.isFresh(joined)) return joined;
    }
    const cached = this.cache.get(commonName);
    if (cached !== undefined && cached.requestKey === key && this.isFresh(cached.certificate)) return cached.certificate;
    return this.runExclusive(commonName, request, options.signal);
  }

  /** Cache only: the current certificate for this name, if any and not expired. */
  get(commonName: string): ManagedCertificate | undefined {
    const entry = this.cache.get(commonName);
    if (entry === undefined || this.clock.now() >= entry.certificate.notAfter.getTime()) return undefined;
    return entry.certificate;
  }

  /** Forces a new certificate for a name issued before (same request), and announces `rotated`. */
  async rotate(commonName: string, options: { signal?: AbortSignal } = {}): Promise<ManagedCertificate> {
    for (let pending = this.inFlight.get(commonName); pending !== undefined; pending = this.inFlight.get(commonName)) {
      await pending.catch(() => undefined);
    }
    const entry = this.cache.get(commonName);
    if (entry === undefined) {
      throw new ProviderError('INVALID_REQUEST', `No certificate for "${commonName}" to rotate; issue one first.`, { httpStatus: 404 });
    }
    return this.runExclusive(commonName, entry.request, options.signal);
  }

  /** Forgets a name's certificate; true when there was one. Announces `released`. */
  release(commonName: string): boolean {
    const entry = this.cache.get(commonName);
    if (entry === undefined) return false;
    this.cache.delete(commonName);
    this.hub.publish({
      kind: 'released',
      commonName,
      serialNumber: entry.certificate.serialNumber,
      notAfter: entry.certificate.notAfter,
      at: new Date(this.clock.now()),
    });
    return true;
  }

  list(): ManagedCertificate[] {
    return [...this.cache.values()].map((entry) => entry.certificate);
  }

  /** `issued`, `rotated` and `released` from now on; ends when the manager closes or the loop breaks. */
  announcements(signal?: AbortSignal): AsyncIterable<Announcement> {
    return this.hub.subscribe(signal);
  }

  async close(): Promise<void> {
    this.hub.close();
  }

  private isFresh(certificate: ManagedCertificate): boolean {
    return this.clock.now() < certificate.renewAt.getTime();
  }

  private buildRequest(commonName: string, options: ManagerIssueOptions): IssueRequest {
    return {
      commonName,
      dnsNames: options.dnsNames ?? [],
      uris: options.uris ?? [],
      ipAddresses: options.ipAddresses ?? [],
      validityMs: options.validityMs ?? this.validityMs,
      keyAlgorithm: options.keyAlgorithm ?? this.keyAlgorithm,
      ...(options.csrPem === undefined ? {} : { csrPem: options.csrPem }),
    };
  }

  private runExclusive(commonName: string, request: IssueRequest, signal: AbortSignal | undefined): Promise<ManagedCertificate> {
    const run = (async (): Promise<ManagedCertificate> => {
      const issued = await this.provider.issue(request, signal);
      const certificate: ManagedCertificate = { ...issued, renewAt: computeRenewAt(issued.notBefore, issued.notAfter, this.random) };
      const previous = this.cache.get(commonName);
      this.cache.set(commonName, { certificate, request, requestKey: requestKey(request) });
      this.hub.publish({
        kind: previous === undefined ? 'issued' : 'rotated',
        commonName,
        serialNumber: certificate.serialNumber,
        ...(previous === undefined ? {} : { previousSerialNumber: previous.certificate.serialNumber }),
        notAfter: certificate.notAfter,
        at: new Date(this.clock.now()),
      });
      return certificate;
    })();
    this.inFlight.set(commonName, run);
    const clear = (): void => {
      if (this.inFlight.get(commonName) === run) this.inFlight.delete(commonName);
    };
    run.then(clear, clear);
    return run;
  }
}
