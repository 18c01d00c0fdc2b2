// What operators fear: a ca-service killed mid-batch, a Redis restart. Nothing may be lost and
// nothing issued twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateResponse, GatewayEvent } from '@fsm-certs/client';
import { startHarness, type Harness } from './harness.js';
import { opensslVerify } from '@fsm-certs/testing';

describe('the system under failures', () => {
  let h: Harness;
  let rootPem: string;

  beforeAll(async () => {
    h = await startHarness();
    rootPem = await h.client.trustBundlePem();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('loses no request and issues no duplicate when ca-service is killed -9 during a batch', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `svc-${i}.crash.cluster.local`);
    // RSA keys make the batch slow enough that the kill lands in the middle of it.
    let answered = 0;
    const pending = names.map((commonName) =>
      h.client.issue({ commonName, keyAlgorithm: 'rsa-2048' }).then((cert) => {
        answered += 1;
        return cert;
      }),
    );
    await new Promise((r) => setTimeout(r, 400));
    const ca = h.stack.app('ca-service');
    await ca.kill();
    // The kill must land mid-batch for this test to mean anything.
    expect(answered).toBeLessThan(names.length);
    ca.restart();
    const results: CertificateResponse[] = await Promise.all(pending);

    expect(results.map((r) => r.commonName).sort()).toEqual([...names].sort());
    for (const cert of results) expect(opensslVerify(cert.certificate, rootPem, { chainPem: cert.chain }).ok).toBe(true);
    // Exactly one certificate per name: what each caller got is what the inventory holds...
    for (const cert of results) expect((await h.client.get(cert.commonName)).serialNumber).toBe(cert.serialNumber);
    // ...and the announcements carry one issuance per name.
    const issued = await collectEvents(h, 'issued');
    for (const name of names) expect(issued.filter((e) => nameOf(e) === name)).toHaveLength(1);
  }, 120_000);

  it('keeps every app working across a Redis restart without restarting them', async () => {
    const redis = h.stack.redis;
    if (redis === undefined) throw new Error('this suite needs the private Redis of the stack');
    const before = await h.client.issue({ commonName: 'before-restart.cluster.local' });
    await redis.restart();
    const after = await retryFor(20_000, () => h.client.issue({ commonName: 'after-restart.cluster.local' }));
    expect(opensslVerify(after.certificate, rootPem, { chainPem: after.chain }).ok).toBe(true);
    expect((await h.client.get('before-restart.cluster.local')).serialNumber).toBe(before.serialNumber);
    for (const app of h.stack.apps) expect(app.running).toBe(true);
  }, 60_000);
});

function nameOf(event: GatewayEvent): string | undefined {
  const data = event.data;
  return typeof data === 'object' && data !== null && 'commonName' in data && typeof data.commonName === 'string' ? data.commonName : undefined;
}

async function collectEvents(h: Harness, type: string): Promise<GatewayEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 2_000);
  const events: GatewayEvent[] = [];
  try {
    for await (const event of h.client.events({ lastEventId: '0', signal: abort.signal })) if (event.type === type) events.push(event);
  } finally {
    clearTimeout(timer);
  }
  return events;
}

async function retryFor<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
