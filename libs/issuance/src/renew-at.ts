// When a certificate becomes due: inside the renewal window (the last third of its lifetime)
// minus a random jitter, so certificates issued together do not all renew together.
import { computeRenewAt } from '@fsm-certs/providers';
import type { RandomSource } from '@fsm-certs/core';

export type RenewAtPolicy = (notBefore: Date, notAfter: Date, random: RandomSource) => Date;

export const defaultRenewAt: RenewAtPolicy = (notBefore, notAfter, random) => computeRenewAt(notBefore, notAfter, random);
