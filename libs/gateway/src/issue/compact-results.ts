// Issue results v2 name the trust bundle by digest instead of repeating its PEMs in every
// record; this turns them back into whole records from the bundle the inventory holds (the one
// /v1/ca serves). The bundle is cached and re-read only when a result names another digest, so a
// CA change is picked up on the first result that needs it. A digest still unknown after the
// re-read (the bundle moved on meanwhile) falls back to the inventory's record of that serial.
import {
  trustBundleDigest,
  type CertificateRecord,
  type IssueItemResult,
  type IssueJobResult,
  type TrustBundleRecord,
} from '@fsm-certs/queue';

export interface CompactResultSource {
  getTrustBundle(): Promise<TrustBundleRecord | undefined>;
  get(commonName: string): Promise<CertificateRecord | undefined>;
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

/** Whole records for every ok item, whichever version the ca-service answered with. */
export async function expandIssueResult(result: IssueJobResult, cache: TrustBundleCache, source: CompactResultSource): Promise<IssueItemResult[]> {
  if (result.version === 1) return result.results;
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
