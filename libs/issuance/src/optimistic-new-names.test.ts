// With a provider that signs locally (Tresor) the ca-service issues plain requests without
// looking up first and stores them only if their name and request id are new, in one round trip.
// Whatever the inventory already holds must still decide the answer, exactly as with a lookup:
// a re-request is answered by reuse, a retried request id by what it got before, other
// parameters replace the certificate — and nothing signed in vain is stored or announced.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Inventory } from '@fsm-certs/queue';
import type { CertificateIssuer, ItemAnswer } from './certificate-issuer.js';
import { CpuGate } from './concurrency.js';
import { PREFIX, item, readAllEvents, startIssuer, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

function okRecord(answer: ItemAnswer | undefined) {
  if (answer?.ok !== true) throw new Error(`item failed: ${String(answer?.ok === false ? answer.error : 'no answer')}`);
  return answer.outcome;
}

/** Script calls Redis has run so far (each is one round trip of the inventory). */
async function scriptCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return calls('evalsha') + calls('eval');
}

/**
 * Counts the gate sections that start a signing slice. A batch signs in slices of a fixed CPU
 * budget, each followed by its own commit, so how many commits a batch makes depends on how fast
 * this machine signs right now: the round trips a batch may make are one per slice.
 */
class CountingGate extends CpuGate {
  sections = 0;
  override run<T>(section: () => T): Promise<T> {
    this.sections += 1;
    return super.run(section);
  }
}

describe('CertificateIssuer issuing new names without a lookup (optimisticNewNames)', () => {
  let env: TestEnv;
  let optimistic: CertificateIssuer;
  let redis: Redis;
  let inventory: Inventory;
  const gate = new CountingGate();

  beforeAll(async () => {
    env = await startTestEnv();
    optimistic = (await startIssuer(env, { optimisticNewNames: true, cpuGate: gate })).issuer;
    redis = env.connect();
    inventory = new Inventory(redis, { prefix: PREFIX });
  });
  afterAll(async () => {
    await env?.close();
  });
  beforeEach(async () => {
    await redis.flushall();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Issues four new names after a warm-up; returns the answers, the script calls and the signing slices of the batch. */
  async function issueFourNewNames(): Promise<{ names: string[]; answers: ItemAnswer[]; scripts: number; slices: number }> {
    const names = ['a', 'b', 'c', 'd'].map((n) => `${n}.new.cluster.local`);
    // Scripts are loaded on first use (a NOSCRIPT miss is a round trip of its own): load them first.
    await optimistic.handleItems([item('warm-up.new.cluster.local')], { mayBeRetry: false });
    const before = await scriptCalls(redis);
    gate.sections = 0;
    const answers = await optimistic.handleItems(names.map((n) => item(n)), { mayBeRetry: false });
    return { names, answers, scripts: (await scriptCalls(redis)) - before, slices: gate.sections };
  }

  async function expectStoredAndAnnouncedOnce(names: readonly string[], answers: readonly ItemAnswer[]): Promise<void> {
    expect(answers.map((a) => okRecord(a).kind)).toEqual(['issued', 'issued', 'issued', 'issued']);
    for (const [i, name] of names.entries()) expect((await inventory.get(name))?.serialNumber).toBe(okRecord(answers[i]).record.serialNumber);
    expect((await readAllEvents(redis)).map((e) => e.kind)).toEqual(['issued', 'issued', 'issued', 'issued', 'issued']);
  }

  it('issues a batch of new names without a lookup round trip (one commit per signing slice), each stored and announced once', async () => {
    const { names, answers, scripts, slices } = await issueFourNewNames();
    // On an idle machine the four fit one slice (one round trip); under load they may take more.
    expect(slices).toBeGreaterThanOrEqual(1);
    expect(scripts).toBe(slices);
    await expectStoredAndAnnouncedOnce(names, answers);
  });

  it('still makes no lookup round trip when signing is slow enough to split the batch into a slice per item', async () => {
    // A clock that jumps 100 ms per reading makes every signature overrun the slice budget.
    const real = performance.now.bind(performance);
    let skew = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => real() + (skew += 100));
    const { names, answers, scripts, slices } = await issueFourNewNames();
    vi.restoreAllMocks();
    expect(slices).toBe(4);
    expect(scripts).toBe(4);
    await expectStoredAndAnnouncedOnce(names, answers);
  });

  it('answers a re-request of an existing name by reuse: the same certificate, nothing new stored or announced', async () => {
    const name = 'again.new.cluster.local';
    const [first] = await optimistic.handleItems([item(name)], { mayBeRetry: false });
    const [second] = await optimistic.handleItems([item(name)], { mayBeRetry: false });
    expect(okRecord(second)).toMatchObject({ kind: 'reused', record: { serialNumber: okRecord(first).record.serialNumber } });
    expect((await inventory.get(name))?.previousSerialNumber).toBeUndefined();
    expect((await readAllEvents(redis)).map((e) => e.kind)).toEqual(['issued']);
  });

  it('answers a request id seen before with what it got, also when it now names another (new) common name', async () => {
    const original = item('first.new.cluster.local');
    const [first] = await optimistic.handleItems([original], { mayBeRetry: false });
    const [same] = await optimistic.handleItems([original], { mayBeRetry: false });
    const [elsewhere] = await optimistic.handleItems([item('second.new.cluster.local', { requestId: original.requestId })], { mayBeRetry: false });
    const serial = okRecord(first).record.serialNumber;
    expect(okRecord(same)).toMatchObject({ kind: 'remembered', record: { serialNumber: serial } });
    expect(okRecord(elsewhere)).toMatchObject({ kind: 'remembered', record: { serialNumber: serial } });
    expect(await inventory.get('second.new.cluster.local')).toBeUndefined();
    expect((await readAllEvents(redis)).map((e) => e.kind)).toEqual(['issued']);
  });

  it('replaces an existing certificate when the parameters differ, and decides items for one name in turn', async () => {
    const name = 'changed.new.cluster.local';
    const [first] = await optimistic.handleItems([item(name)], { mayBeRetry: false });
    const answers = await optimistic.handleItems([item(name, { dnsNames: ['wide.cluster.local'] }), item(name, { dnsNames: ['wide.cluster.local'] })], { mayBeRetry: false });
    const replaced = okRecord(answers[0]);
    expect(replaced.kind).toBe('issued');
    expect(replaced.record.previousSerialNumber).toBe(okRecord(first).record.serialNumber);
    expect(okRecord(answers[1])).toMatchObject({ kind: 'reused', record: { serialNumber: replaced.record.serialNumber } });
    expect((await readAllEvents(redis)).map((e) => e.kind)).toEqual(['issued', 'rotated']);
  });
});
