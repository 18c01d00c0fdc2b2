// When a certificate becomes due for renewal: at the start of the last third of its lifetime,
// moved earlier by a random fraction of that window so certificates issued together do not
// all renew together. Computed once per certificate; the queue's rotation sweep reuses it.
import type { RandomSource } from '@fsm-certs/core';

/** Fraction of the lifetime that forms the renewal window (the last third). */
export const RENEWAL_WINDOW_FRACTION = 1 / 3;
/** The jitter moves renewAt earlier by up to this fraction of the window. */
export const RENEWAL_JITTER_FRACTION = 0.5;

export function computeRenewAt(notBefore: Date, notAfter: Date, random: RandomSource = Math.random): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  if (!(lifetime > 0)) return new Date(notBefore.getTime());
  const window = lifetime * RENEWAL_WINDOW_FRACTION;
  const r = Math.min(Math.max(random(), 0), 1);
  const jitter = window * RENEWAL_JITTER_FRACTION * r;
  return new Date(Math.round(notAfter.getTime() - window - jitter));
}
