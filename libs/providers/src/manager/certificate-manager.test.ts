import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '@fsm-certs/core';
import { isProviderError } from '../errors.js';
import type { CertificateProvider, IssuedCertificate, IssueRequest, TrustBundle } from '../provider.js';
import { FileSecretStore } from '../secret-store/file-store.js';
import { TresorProvider } from '../tresor/tresor-provider.js';
import type { Announcement } from './announcements.js';
import { CertificateManager } from './certificate-manager.js';
import { computeRenewAt } from './renew-at.js';

const HOUR = 3_600_000;
const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-manager-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

class ManualClock implements Clock {
  constructor(private time: number) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** The real Tresor provider, counting the issuances that reach it (the manager must save them). */
class CountingProvider implements CertificateProvider {
  readonly kind = 'tresor' as const;
  calls = 0;
  constructor(private readonly inner: CertificateProvider) {}
  async issue(request: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate> {
    this.calls += 1;
    // Yield so concurrent callers really overlap with an issuance in flight.
    await new Promise((resolve) => setTimeout(resolve, 10));
    return this.inner.issue(request, signal);
  }
  trustBundle(): Promise<TrustBundle> {
    return this.inner.trustBundle();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

let clock: ManualClock;
let tresor: TresorProvider;
beforeAll(async () => {
  clock = new ManualClock(Date.now());
  tresor = await TresorProvider.start({ store: new FileSecretStore({ dataDir }), clock });
});

function setup(random = 0): { manager: CertificateManager; provider: CountingProvider } {
  const provider = new CountingProvider(tresor);
  return { provider, manager: new CertificateManager({ provider, clock, random: () => random, validityMs: 24 * HOUR }) };
}

async function take(iterable: AsyncIterable<Announcement>, count: number): Promise<Announcement[]> {
  const out: Announcement[] = [];
  for await (const item of iterable) {
    out.push(item);
    if (out.length === count) break;
  }
  return out;
}

describe('computeRenewAt', () => {
  const notBefore = new Date('2030-01-01T00:00:00Z');
  const notAfter = new Date(notBefore.getTime() + 24 * HOUR);

  it('starts renewal at the last third of the lifetime when the jitter is zero', () => {
    expect(computeRenewAt(notBefore, notAfter, () => 0).toISOString()).toBe('2030-01-01T16:00:00.000Z');
  });

  it('moves renewal earlier by at most half the window with full jitter', () => {
    expect(computeRenewAt(notBefore, notAfter, () => 1).toISOString()).toBe('2030-01-01T12:00:00.000Z');
  });

  it('spreads certificates issued together across the window', () => {
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const times = new Set(Array.from({ length: 100 }, () => computeRenewAt(notBefore, notAfter, random).getTime()));
    expect(times.size).toBeGreaterThan(90);
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(notBefore.getTime() + 12 * HOUR);
      expect(t).toBeLessThanOrEqual(notBefore.getTime() + 16 * HOUR);
    }
  });
});

describe('CertificateManager', () => {
  it('returns the cached certificate until it enters its renewal window, then a new one', async () => {
    const { manager, provider } = setup(0);
    const first = await manager.issue('bookstore.bookstore.cluster.local');
    expect(first.renewAt.getTime()).toBe(first.notAfter.getTime() - (first.notAfter.getTime() - first.notBefore.getTime()) / 3);
    clock.advance(10 * HOUR);
    const again = await manager.issue('bookstore.bookstore.cluster.local');
    expect(again.serialNumber).toBe(first.serialNumber);
    expect(provider.calls).toBe(1);
    clock.advance(first.renewAt.getTime() - clock.now());
    const renewed = await manager.issue('bookstore.bookstore.cluster.local');
    expect(renewed.serialNumber).not.toBe(first.serialNumber);
    expect(provider.calls).toBe(2);
  });

  it('runs one issuance for 20 concurrent requests for the same name', async () => {
    const { manager, provider } = setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => manager.issue('bookbuyer.bookbuyer.cluster.local')));
    expect(provider.calls).toBe(1);
    expect(new Set(results.map((r) => r.serialNumber)).size).toBe(1);
  });

  it('issues separately for different names at the same time', async () => {
    const { manager, provider } = setup();
    await Promise.all([manager.issue('a.ns.cluster.local'), manager.issue('b.ns.cluster.local')]);
    expect(provider.calls).toBe(2);
    expect(manager.list().map((c) => c.commonName).sort()).toEqual(['a.ns.cluster.local', 'b.ns.cluster.local']);
  });

  it('does not serve a cached certificate for a different request for the same name', async () => {
    const { manager, provider } = setup();
    const plain = await manager.issue('svc.ns.cluster.local');
    const withSan = await manager.issue('svc.ns.cluster.local', { dnsNames: ['svc.ns.svc'] });
    expect(withSan.serialNumber).not.toBe(plain.serialNumber);
    expect(provider.calls).toBe(2);
  });

  it('get reads the cache only and forgets expired certificates', async () => {
    const { manager, provider } = setup();
    expect(manager.get('cache.ns.cluster.local')).toBeUndefined();
    expect(provider.calls).toBe(0);
    const cert = await manager.issue('cache.ns.cluster.local');
    expect(manager.get('cache.ns.cluster.local')?.serialNumber).toBe(cert.serialNumber);
    clock.advance(cert.notAfter.getTime() - clock.now());
    expect(manager.get('cache.ns.cluster.local')).toBeUndefined();
  });

  it('rotate forces a new certificate; rotating an unknown name is an error', async () => {
    const { manager, provider } = setup();
    const first = await manager.issue('rot.ns.cluster.local', { dnsNames: ['rot.ns.svc'] });
    const rotated = await manager.rotate('rot.ns.cluster.local');
    expect(rotated.serialNumber).not.toBe(first.serialNumber);
    expect(provider.calls).toBe(2);
    expect(manager.get('rot.ns.cluster.local')?.serialNumber).toBe(rotated.serialNumber);
    const error = await manager.rotate('unknown.ns.cluster.local').catch((e: unknown) => e);
    expect(isProviderError(error) && error.code).toBe('INVALID_REQUEST');
  });

  it('announces issued, rotated and released in order', async () => {
    const { manager } = setup(0);
    const received = take(manager.announcements(), 4);
    const issued = await manager.issue('ann.ns.cluster.local');
    await manager.issue('ann.ns.cluster.local'); // cached: no announcement
    const rotated = await manager.rotate('ann.ns.cluster.local');
    expect(manager.release('ann.ns.cluster.local')).toBe(true);
    expect(manager.release('ann.ns.cluster.local')).toBe(false);
    await manager.issue('ann.ns.cluster.local');
    const events = await received;
    expect(events.map((e) => e.kind)).toEqual(['issued', 'rotated', 'released', 'issued']);
    expect(events[0]?.serialNumber).toBe(issued.serialNumber);
    expect(events[1]).toMatchObject({ serialNumber: rotated.serialNumber, previousSerialNumber: issued.serialNumber, commonName: 'ann.ns.cluster.local' });
    expect(events[2]?.serialNumber).toBe(rotated.serialNumber);
  });

  it('announces a renewal inside the window as rotated', async () => {
    const { manager } = setup(0);
    const first = await manager.issue('renew.ns.cluster.local');
    const received = take(manager.announcements(), 1);
    clock.advance(first.renewAt.getTime() - clock.now() + 1);
    await manager.issue('renew.ns.cluster.local');
    expect((await received)[0]).toMatchObject({ kind: 'rotated', previousSerialNumber: first.serialNumber });
  });

  it('ends announcement iterators when the manager closes', async () => {
    const { manager } = setup();
    const iterator = manager.announcements()[Symbol.asyncIterator]();
    const next = iterator.next();
    await manager.close();
    expect(await next).toEqual({ value: undefined, done: true });
  });

  it('passes a provider failure to every waiting caller and lets the next call retry', async () => {
    const { manager } = setup();
    const results = await Promise.allSettled([manager.issue('short.ns.cluster.local', { validityMs: 60_000 }), manager.issue('short.ns.cluster.local', { validityMs: 60_000 })]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const ok = await manager.issue('short.ns.cluster.local');
    expect(ok.commonName).toBe('short.ns.cluster.local');
  });
});
