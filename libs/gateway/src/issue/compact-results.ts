// Issue results v2 name the trust bundle by digest instead of repeating its PEMs in every
// record; this turns them back into whole records from the bundle the inventory holds (the one
// /v1/ca serves). The bundle is cached and re-read only when a result names another digest, so a
// CA change is picked up on the first result that needs it. A digest still unknown after the
// re-read (the bundle moved on meanwhile) falls back to the inventory's record of that serial.
//
// Results v3 name each stored certificate (common name and serial) instead of carrying it: the
// records of a job are read from the inventory in one round trip, and an item is answered only
// with the very serial named. A name that holds another serial by then (renewed, re-issued by a
// root rotation) or none (released) is answered `503 CERTIFICATE_CHANGED`, retryable: the
// certificate the ca-service answered with is no longer the one to hand out, and a new request
// gets the name's current certificate (reuse) or a new one.
import {
  trustBundleDigest,
  type CertificateRecord,
  type IssueItemResult,
  type IssueJobResult,
  type IssueJobResultV3,
  type JobError,
  type StoredName,
  type StoredRead,
  type TrustBundleRecord,
} from '@fsm-certs/queue';

export interface CompactResultSource {
  getTrustBundle(): Promise<TrustBundleRecord | undefined>;
  get(commonName: string): Promise<CertificateRecord | undefined>;
  /** The records a v3 result names, in one round trip, each only while its name holds that serial (Inventory.readStored). */
  readStored(names: readonly StoredName[]): Promise<StoredRead[]>;
}

interface CachedBundle {
  readonly digest: string;
  readonly bundle: TrustBundleRecord;
}

export class TrustBundleCache {
  private current: CachedBundle | undefined;
  private loading: Promise<void> | undefined;

  constructor(private readonly source: CompactResultSource) {}

  /** The cached bundle when it has this digest; no Redis call. */
  peek(digest: string): TrustBundleRecord | undefined {
    return this.current?.digest === digest ? this.current.bundle : undefined;
  }

  /** The bundle with this digest, re-reading the inventory once if the cached one differs. */
  async byDigest(digest: string): Promise<TrustBundleRecord | undefined> {
    const cached = this.peek(digest);
    if (cached !== undefined) return cached;
    // Concurrent misses share one read.
    this.loading ??= this.reload().finally(() => {
      this.loading = undefined;
    });
    await this.loading;
    return this.peek(digest);
  }

  private async reload(): Promise<void> {
    const bundle = await this.source.getTrustBundle();
    this.current = bundle === undefined ? undefined : { digest: trustBundleDigest(bundle.issuingCaPem, bundle.trustedCasPem), bundle };
  }
}

const unresolved = {
  code: 'TRUST_BUNDLE_UNAVAILABLE',
  message: 'The certificate was issued but the trust bundle it references is not in the inventory yet; retry in a moment.',
  httpStatus: 503,
  retryable: true,
} as const;

const malformed = {
  code: 'ISSUANCE_FAILED',
  message: 'The CA service returned a record without its CA certificates; check that the gateway and the ca-service run compatible versions.',
  httpStatus: 502,
  retryable: false,
} as const;

const changed: JobError = {
  code: 'CERTIFICATE_CHANGED',
  message:
    'The certificate issued for this request was replaced (renewed, or re-issued by a root rotation) or released before the gateway read it back; retry: the name\'s current certificate is reused, or a new one issued.',
  httpStatus: 503,
  retryable: true,
};

function unreadable(read: Extract<StoredRead, { kind: 'unreadable' }>): JobError {
  return { code: read.error.code, message: read.error.message, httpStatus: read.error.httpStatus, retryable: false };
}

/** Whole records for a v3 result's items, read from the inventory in one round trip. */
async function readNamedResult(result: IssueJobResultV3, source: CompactResultSource): Promise<IssueItemResult[]> {
  const names: StoredName[] = [];
  for (const item of result.results) if (item.ok) names.push(item);
  const reads = names.length === 0 ? [] : await source.readStored(names);
  let next = 0;
  return result.results.map((item): IssueItemResult => {
    if (!item.ok) return item;
    const read = reads[next++];
    if (read?.kind === 'stored') return { requestId: item.requestId, ok: true, certificate: read.record };
    return { requestId: item.requestId, ok: false, error: read?.kind === 'unreadable' ? unreadable(read) : changed };
  });
}

/** Whole records for every ok item, whichever version the ca-service answered with. */
export async function expandIssueResult(result: IssueJobResult, cache: TrustBundleCache, source: CompactResultSource): Promise<IssueItemResult[]> {
  if (result.version === 1) return result.results;
  if (result.version === 3) return readNamedResult(result, source);
  const out: IssueItemResult[] = [];
  for (const item of result.results) {
    if (!item.ok) {
      out.push(item);
      continue;
    }
    const { certificate, trustBundleDigest: digest, requestId } = item;
    const { issuingCaPem, trustedCasPem } = certificate;
    if (digest === undefined) {
      if (issuingCaPem === undefined || trustedCasPem === undefined) out.push({ requestId, ok: false, error: malformed });
      else out.push({ requestId, ok: true, certificate: { ...certificate, issuingCaPem, trustedCasPem } });
      continue;
    }
    const bundle = cache.peek(digest) ?? (await cache.byDigest(digest));
    if (bundle !== undefined) {
      out.push({ requestId, ok: true, certificate: { ...certificate, issuingCaPem: bundle.issuingCaPem, trustedCasPem: bundle.trustedCasPem } });
      continue;
    }
    const stored = await source.get(certificate.commonName);
    if (stored?.serialNumber === certificate.serialNumber) out.push({ requestId, ok: true, certificate: stored });
    else out.push({ requestId, ok: false, error: unresolved });
  }
  return out;
}
