import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RotationState } from '@fsm-certs/providers';
import { activateReadiness, drained, dropReadiness, type RotationFacts } from './conditions.js';
import { spreadFraction } from './leaf-scan.js';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const T0 = Date.parse('2026-01-01T00:00:00Z');

function state(stage: RotationState['stage'], extra: Partial<RotationState> = {}): RotationState {
  return { version: 1, stage, generation: 3, rotationId: 'r1', paused: false, auto: true, propagationMs: 5_000, spreadMs: 5_000, stageSince: new Date(T0).toISOString(), oldFingerprint: OLD, newFingerprint: NEW, ...extra };
}

function facts(nowOffsetMs: number, live: Record<string, number>, signers: Record<string, string> = { a: NEW, b: NEW }): RotationFacts {
  return { nowMs: T0 + nowOffsetMs, signer: NEW, liveByIssuer: new Map(Object.entries(live)), signers, liveInstances: Object.keys(signers) };
}

describe('root rotation conditions', () => {
  it('activates only once the propagation period since prepare has passed, and says until when', () => {
    const early = activateReadiness(state('prepared'), facts(4_999, {}));
    expect(early).toMatchObject({ ready: false, atMs: T0 + 5_000 });
    expect(early.reason).toContain('ends at 2026-01-01T00:00:05.000Z');
    expect(activateReadiness(state('prepared'), facts(5_000, {})).ready).toBe(true);
    expect(activateReadiness(state('activated'), facts(60_000, {})).ready).toBe(false);
  });

  it.each([
    { name: 'a live leaf still chains to the old root', live: { [OLD]: 1, [NEW]: 4 }, signers: { a: NEW, b: NEW }, drained: false, reason: /1 live leaf certificate still chains to the old root/ },
    { name: 'a live ca-service still signs with the old root', live: { [NEW]: 5 }, signers: { a: NEW, b: OLD }, drained: false, reason: /ca-service b does not sign with the new root yet/ },
    { name: 'every leaf moved and every replica signs with the new root', live: { [NEW]: 5 }, signers: { a: NEW, b: NEW }, drained: true, reason: /^$/ },
  ])('is drained only when nothing chains to the old root and no replica signs with it: $name', ({ live, signers, drained: expected, reason }) => {
    const d = drained(state('activated'), facts(10_000, live, signers));
    expect(d.drained).toBe(expected);
    expect(d.reason).toMatch(reason);
  });

  it('retires a propagation period after the last leaf moved, not before', () => {
    const drainedAt = new Date(T0 + 8_000).toISOString();
    expect(dropReadiness(state('activated'), facts(20_000, { [NEW]: 2 })).ready).toBe(false);
    expect(dropReadiness(state('activated', { drainedAt }), facts(12_999, { [NEW]: 2 }))).toMatchObject({ ready: false, atMs: T0 + 13_000 });
    expect(dropReadiness(state('activated', { drainedAt }), facts(13_000, { [NEW]: 2 })).ready).toBe(true);
    expect(dropReadiness(state('activated', { drainedAt }), facts(13_000, { [OLD]: 1, [NEW]: 1 })).ready).toBe(false);
  });

  it('stops the clock while no issuer-gateway is live, and counts the propagation period again from its return', () => {
    const down = activateReadiness(state('prepared', { gatewayDownAt: new Date(T0 + 1_000).toISOString() }), facts(60_000, {}));
    expect(down.ready).toBe(false);
    expect(down.reason).toMatch(/^no issuer-gateway has been live since 2026-01-01T00:00:01\.000Z/);
    const back = state('prepared', { clockFrom: new Date(T0 + 30_000).toISOString() });
    expect(activateReadiness(back, facts(34_999, {}))).toMatchObject({ ready: false, atMs: T0 + 35_000 });
    expect(activateReadiness(back, facts(35_000, {})).ready).toBe(true);
    const drainedBack = state('activated', { drainedAt: new Date(T0 + 8_000).toISOString(), clockFrom: new Date(T0 + 20_000).toISOString() });
    expect(dropReadiness(drainedBack, facts(24_999, { [NEW]: 2 })).ready).toBe(false);
    expect(dropReadiness(drainedBack, facts(25_000, { [NEW]: 2 })).ready).toBe(true);
  });

  it('drops an expired old root whatever still chains to it', () => {
    expect(dropReadiness(state('activated'), { ...facts(1_000, { [OLD]: 7 }), leavingRootNotAfterMs: T0 }).reason).toBe('the old root has expired');
  });

  it('after a rollback, waits for leaves to leave the new root', () => {
    const rolledBack = state('rolled-back', { auto: false });
    const f = { ...facts(1_000, { [NEW]: 1, [OLD]: 3 }, { a: OLD }), signer: OLD };
    expect(drained(rolledBack, f).reason).toMatch(/1 live leaf certificate still chains to the new root/);
  });

  it('gives every name the slot previous versions gave it, so a rolling upgrade mid-rotation keeps the schedule', () => {
    // As versions before the one-shot hash computed it.
    const before = (salt: string, name: string): number => createHash('sha256').update(salt).update('\0').update(name).digest().readUInt32BE(0) / 2 ** 32;
    for (const name of ['svc-1.ns.cluster.local', 'bookstore.bookstore.svc.cluster.local', 'spiffe-ü.example', '']) {
      expect(spreadFraction('rot-7/activated/2026-11-30T10:00:00.000Z', name)).toBe(before('rot-7/activated/2026-11-30T10:00:00.000Z', name));
    }
  });

  it('spreads names over the window stably and roughly evenly', () => {
    const fractions = Array.from({ length: 1000 }, (_, i) => spreadFraction('r1/activated', `svc-${i}.ns.cluster.local`));
    expect(fractions.every((f) => f >= 0 && f < 1)).toBe(true);
    expect(spreadFraction('r1/activated', 'svc-1.ns.cluster.local')).toBe(fractions[1]);
    const firstHalf = fractions.filter((f) => f < 0.5).length;
    expect(firstHalf).toBeGreaterThan(400);
    expect(firstHalf).toBeLessThan(600);
  });
});
