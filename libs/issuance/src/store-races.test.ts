// Issue items take no lock per name: every store is a compare-and-set and a loser decides again.
// These are the races the lock used to prevent; the outcome must be as if the jobs had run one
// after the other — one current cert per name, one announcement per stored cert, no double rotation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inventory, IssueBatchStore, type BatchWrite, type IssueItem } from '@fsm-certs/queue';
import type { CertificateIssuer, CertificateIssuerDeps, ItemAnswer } from './certificate-issuer.js';
import { PREFIX, item, readAllEvents, startIssuer, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

// Both ways of deciding: with a lookup first, and (Tresor) storing new names without one.
describe.each([false, true])('issue items racing for one name across replicas (optimisticNewNames: %s)', (optimisticNewNames) => {
  let env: TestEnv;
  let replicas: CertificateIssuer[];
  let inventory: Inventory;

  async function replica(overrides: Partial<CertificateIssuerDeps> = {}): Promise<CertificateIssuer> {
    return (await startIssuer(env, { optimisticNewNames, ...overrides })).issuer;
  }

  beforeAll(async () => {
    env = await startTestEnv();
    replicas = [await replica(), await replica(), await replica()];
    inventory = new Inventory(env.connect(), { prefix: PREFIX });
  });
  afterAll(async () => {
    await env?.close();
  });

  /** Every replica handles its items at the same moment. */
  async function race(batches: IssueItem[][]): Promise<ItemAnswer[][]> {
    return Promise.all(batches.map((batch, i) => (replicas[i % replicas.length] ?? replicas[0])?.handleItems(batch, { mayBeRetry: false }) ?? []));
  }

  function serialOf(answer: ItemAnswer | undefined): string {
    if (answer?.ok !== true) throw new Error(`item failed: ${String(answer?.ok === false ? answer.error : 'no answer')}`);
    return answer.outcome.record.serialNumber;
  }

  async function eventsFor(name: string): Promise<string[]> {
    return (await readAllEvents(env.connect())).filter((e) => 'commonName' in e && e.commonName === name).map((e) => e.kind);
  }

  it('gives every replica asking for a new name with the same parameters one and the same certificate, announced once', async () => {
    const name = 'same-params.race.cluster.local';
    const answers = await race([[item(name)], [item(name)], [item(name)]]);
    const serials = new Set(answers.map((a) => serialOf(a[0])));
    expect(serials.size).toBe(1);
    expect((await inventory.get(name))?.serialNumber).toBe([...serials][0]);
    expect(await eventsFor(name)).toEqual(['issued']);
  });

  it('lets different parameters for one name replace each other in turn, each caller getting its own', async () => {
    const name = 'diff-params.race.cluster.local';
    const wide = item(name, { dnsNames: ['wide.cluster.local'] });
    const narrow = item(name);
    const answers = await race([[wide], [narrow]]);
    const a = answers[0]?.[0];
    const b = answers[1]?.[0];
    // Records list the certificate's DNS SANs, the common name first.
    expect(a?.ok && a.outcome.record.dnsNames).toEqual([name, 'wide.cluster.local']);
    expect(b?.ok && b.outcome.record.dnsNames).toEqual([name]);
    expect(serialOf(a)).not.toBe(serialOf(b));
    // Whichever stored second replaced the first; both were announced, in order.
    const current = await inventory.get(name);
    expect([serialOf(a), serialOf(b)]).toContain(current?.serialNumber);
    expect([serialOf(a), serialOf(b)]).toContain(current?.previousSerialNumber);
    expect(await eventsFor(name)).toEqual(['issued', 'rotated']);
  });

  it('rotates a serial once when replicas run the same scheduled rotation at once', async () => {
    const name = 'rotation.race.cluster.local';
    const original = serialOf((await race([[item(name)]]))[0]?.[0]);
    const rotate = (): IssueItem => item(name, { reason: 'rotate-scheduled', expectSerial: original });
    const answers = await race([[rotate(), rotate()], [rotate()], [rotate()]]);
    const serials = new Set(answers.flat().map(serialOf));
    expect(serials.size).toBe(1);
    expect(serials.has(original)).toBe(false);
    expect(await eventsFor(name)).toEqual(['issued', 'rotated']);
  });

  it('answers items of one batch for one name in order, each seeing what the previous stored', async () => {
    const name = 'in-order.race.cluster.local';
    const first = item(name);
    const again = item(name);
    const wider = item(name, { dnsNames: ['x.cluster.local'] });
    const [answers] = await race([[first, again, wider]]);
    expect(answers?.map((a) => (a.ok ? a.outcome.kind : 'failed'))).toEqual(['issued', 'reused', 'issued']);
    expect(serialOf(answers?.[1])).toBe(serialOf(answers?.[0]));
    expect(answers?.[2]?.ok && answers[2].outcome.record.previousSerialNumber).toBe(serialOf(answers?.[0]));
  });

  it('gives up with a retryable NAME_BUSY when a name keeps changing under it, storing and announcing nothing', async () => {
    const redis = env.connect();
    const real = new IssueBatchStore(redis, { prefix: PREFIX });
    const alwaysLoses = Object.assign(Object.create(real) as IssueBatchStore, {
      commit: async (writes: readonly BatchWrite[]) => writes.map(() => false),
    });
    const unlucky = await replica({ batchStore: alwaysLoses });
    const name = 'busy.race.cluster.local';
    const [answer] = await unlucky.handleItems([item(name)], { mayBeRetry: false });
    expect(answer?.ok).toBe(false);
    if (answer?.ok === false) expect(answer.error).toMatchObject({ code: 'NAME_BUSY', retryable: true, httpStatus: 503 });
    expect(await inventory.get(name)).toBeUndefined();
    expect(await eventsFor(name)).toEqual([]);
  });
});
