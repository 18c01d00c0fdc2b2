// When a certificate becomes due for renewal: at the start of the last third of its lifetime,
// moved earlier by a random fraction of that window so certificates issued together do not all
// renew together. The ca-service computes it once per certificate and stores it in the record;
// the rotation-worker's sweep and `fsm-certs check` read it back, never recompute it.
import type { RandomSource } from '@fsm-certs/core';

/** Fraction of the lifetime that forms the renewal window (the last third). */
export const RENEWAL_WINDOW_FRACTION = 1 / 3;
/** The jitter moves renewAt earlier by up to this fraction of the window. */
export const RENEWAL_JITTER_FRACTION = 0.5;

export function computeRenewAt(notBefore: Date, notAfter: Date, random: RandomSource): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  if (!(lifetime > 0)) return new Date(notBefore.getTime());
  const window = lifetime * RENEWAL_WINDOW_FRACTION;
  const r = Math.min(Math.max(random(), 0), 1);
  const jitter = window * RENEWAL_JITTER_FRACTION * r;
  return new Date(Math.round(notAfter.getTime() - window - jitter));
}

/** How the ca-service picks renewAt; injectable so tests can pin it. */
export type RenewAtPolicy = (notBefore: Date, notAfter: Date, random: RandomSource) => Date;

export const defaultRenewAt: RenewAtPolicy = computeRenewAt;
