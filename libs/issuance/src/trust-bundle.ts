// Keeps the inventory's trust bundle (served by the gateway at /v1/ca) equal to the provider's,
// and announces `trust-bundle-changed` only when it really changed. Run at start and after every
// Redis reconnect, so a Redis that lost its data gets the bundle back without a restart.
import type { CertificateProvider } from '@fsm-certs/providers';
import { AuditLog, type EventStream, type Inventory, type TrustBundleRecord } from '@fsm-certs/queue';
import { fingerprintSha256, inspectCertificate } from '@fsm-certs/x509';
import type { Clock } from '@fsm-certs/core';

export interface TrustBundleSync {
  /** Fingerprint of the CA that issues now. */
  readonly issuerId: string;
  readonly changed: boolean;
  readonly bundle: TrustBundleRecord;
}

function sameBundle(a: TrustBundleRecord, issuingCaPem: string, trustedCasPem: readonly string[]): boolean {
  const norm = (pem: string): string => pem.trim();
  if (norm(a.issuingCaPem) !== norm(issuingCaPem)) return false;
  const left = a.trustedCasPem.map(norm).sort();
  const right = trustedCasPem.map(norm).sort();
  return left.length === right.length && left.every((pem, i) => pem === right[i]);
}

export async function syncTrustBundle(deps: {
  readonly provider: CertificateProvider;
  readonly inventory: Inventory;
  readonly events: EventStream;
  readonly clock: Clock;
  /** The audit trail: a change of the bundle is a decision recorded once, by the replica that made it. */
  readonly audit?: Pick<AuditLog, 'append'>;
}): Promise<TrustBundleSync> {
  const { issuingCaPem, trustedCasPem } = await deps.provider.trustBundle();
  const issuerId = fingerprintSha256(issuingCaPem);
  const existing = await deps.inventory.getTrustBundle();
  if (existing !== undefined && sameBundle(existing, issuingCaPem, trustedCasPem)) {
    return { issuerId, changed: false, bundle: existing };
  }
  const rootNotAfter = new Date(Math.min(...trustedCasPem.map((pem) => inspectCertificate(pem).notAfter.getTime())));
  const { bundle, previous } = await deps.inventory.swapTrustBundle({ issuingCaPem, trustedCasPem, rootNotAfter });
  // Another replica stored this very change since our read (a root rotation step both followed):
  // it announces it, not us.
  if (previous !== undefined && sameBundle(previous, issuingCaPem, trustedCasPem)) return { issuerId, changed: false, bundle };
  const atMs = deps.clock.now();
  // Recorded before it is announced, so no reader of the announcement can miss the record.
  await deps.audit?.append(
    AuditLog.caRecord({ atMs, outcome: 'trust-bundle-changed', operation: 'trust-bundle-changed', provider: deps.provider.kind, issuerId, notAfter: bundle.rootNotAfter }),
  );
  await deps.events.publish({
    version: 1,
    kind: 'trust-bundle-changed',
    at: new Date(atMs).toISOString(),
    issuerId,
    trustedCaCount: trustedCasPem.length,
    rootNotAfter: bundle.rootNotAfter,
  });
  return { issuerId, changed: true, bundle };
}

/** How often the ca-service re-reads the provider's trust bundle by default (a root change inside Vault shows within it). */
export const DEFAULT_TRUST_BUNDLE_REFRESH_MS = 10_000;

export interface TrustBundleRefresh {
  stop(): void;
}

/**
 * Re-reads the trust bundle every `intervalMs`, so a root changed inside the backend (a Vault
 * issuer rotated and made default) reaches /v1/ca, the CA-bundle secret and `trust-bundle-changed`
 * without a restart. One read at a time; failures are reported and the next tick tries again.
 */
export function startTrustBundleRefresh(options: {
  readonly intervalMs: number;
  readonly resync: () => Promise<void>;
  readonly onError: (error: unknown) => void;
}): TrustBundleRefresh {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    options.resync().catch(options.onError).finally(() => {
      running = false;
    });
  }, options.intervalMs);
  // The refresh must never keep a stopping process alive.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
