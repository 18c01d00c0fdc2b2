import { describe, expect, it } from 'vitest';
import type { CertificateRecord, IssueItem, IssueItemResult } from '@fsm-certs/queue';
import { GatewayError } from '../errors.js';
import { IssueBatcher, singleFlightKey, type IssueRequestItem } from './batcher.js';
import type { IssueClient } from './issue-client.js';

function item(commonName: string, extra: Partial<IssueRequestItem> = {}): IssueRequestItem {
  return { commonName, dnsNames: [], uris: [], ipAddresses: [], validityMs: 3_600_000, keyAlgorithm: 'ecdsa-p256', reason: 'request', ...extra };
}

function record(i: IssueItem): CertificateRecord {
  return { commonName: i.commonName, serialNumber: 'ab' } as unknown as CertificateRecord;
}

class RecordingClient implements IssueClient {
  readonly batches: IssueItem[][] = [];
  answer: (items: readonly IssueItem[]) => Promise<readonly IssueItemResult[]> = async (items) =>
    items.map((i) => ({ requestId: i.requestId, ok: true as const, certificate: record(i) }));
  async issueBatch(items: readonly IssueItem[]): Promise<readonly IssueItemResult[]> {
    this.batches.push([...items]);
    return this.answer(items);
  }
  async queueDepth(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
}

let counter = 0;
const ids = (): string => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

describe('IssueBatcher', () => {
  it('sends requests arriving in the same event-loop turn as one batch', async () => {
    const client = new RecordingClient();
    const batcher = new IssueBatcher(client, { windowMs: 5, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    const results = await Promise.all(['a', 'b', 'c'].map((n) => batcher.submit(item(`${n}.example.com`))));
    expect(results.map((r) => r.commonName)).toEqual(['a.example.com', 'b.example.com', 'c.example.com']);
    expect(client.batches).toHaveLength(1);
    expect(client.batches[0]).toHaveLength(3);
  });

  it('splits at maxItems', async () => {
    const client = new RecordingClient();
    const batcher = new IssueBatcher(client, { windowMs: 5, maxItems: 2, timeoutMs: 1000, newRequestId: ids });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => batcher.submit(item(`${n}.example.com`))));
    expect(client.batches.map((b) => b.length)).toEqual([2, 2, 1]);
  });

  it('sends a lone request at once when nothing is outstanding, without waiting for the window', async () => {
    const client = new RecordingClient();
    const batcher = new IssueBatcher(client, { windowMs: 60_000, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    await expect(batcher.submit(item('alone.example.com'))).resolves.toMatchObject({ commonName: 'alone.example.com' });
    expect(client.batches.map((b) => b.length)).toEqual([1]);
  });

  it('under steady demand sends a batch as soon as it holds demand / pipelineDepth requests', async () => {
    const client = new RecordingClient();
    const batcher = new IssueBatcher(client, { windowMs: 60_000, maxItems: 64, pipelineDepth: 2, timeoutMs: 1000, newRequestId: ids });
    // 16 requests in one event-loop turn leave together, and set the demand to 16.
    await Promise.all(Array.from({ length: 16 }, (_, i) => batcher.submit(item(`first-${i}.example.com`))));
    const next: Array<Promise<CertificateRecord>> = [];
    for (let i = 0; i < 7; i++) {
      next.push(batcher.submit(item(`next-${i}.example.com`)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(client.batches.map((b) => b.length)).toEqual([16]);
    next.push(batcher.submit(item('next-7.example.com')));
    await Promise.all(next);
    expect(client.batches.map((b) => b.length)).toEqual([16, 8]);
  });

  it('forgets a peak of demand within a second', async () => {
    const client = new RecordingClient();
    let now = 0;
    const batcher = new IssueBatcher(client, { windowMs: 60_000, maxItems: 64, timeoutMs: 1000, newRequestId: ids, now: () => now });
    await Promise.all(Array.from({ length: 16 }, (_, i) => batcher.submit(item(`burst-${i}.example.com`))));
    now += 400;
    const held = batcher.submit(item('held.example.com'));
    // A flush on share would go at the end of this event-loop turn; only the window is left.
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.batches.map((b) => b.length)).toEqual([16]);
    await batcher.drain();
    await held;
    now += 1_100;
    await batcher.submit(item('later.example.com'));
    expect(client.batches.map((b) => b.length)).toEqual([16, 1, 1]);
  });

  it('with no job in flight and sparse arrivals, sends a request at once whatever the recent demand; dense arrivals still gather', async () => {
    const turn = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));
    const client = new RecordingClient();
    let now = 0;
    // The window is far longer than the test's turns: only a send at the end of a turn shows.
    const batcher = new IssueBatcher(client, { windowMs: 100, maxItems: 64, pipelineDepth: 2, timeoutMs: 1000, newRequestId: ids, now: () => now });
    // A burst of 4 (demand 4, share 2), answered; then fewer than one arrival per 100 ms window.
    await Promise.all(Array.from({ length: 4 }, (_, i) => batcher.submit(item(`burst-${i}.example.com`))));
    now = 600;
    const lone = batcher.submit(item('lone.example.com'));
    await turn();
    expect(client.batches.map((b) => b.length)).toEqual([4, 1]);
    await lone;
    // With a job in flight a lone arrival waits for company, and leaves once that job is answered.
    let answerHeld: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (answerHeld = resolve));
    const plain = client.answer;
    client.answer = async (items) => {
      await held;
      return plain(items);
    };
    now = 700;
    const first = batcher.submit(item('first.example.com'));
    await turn();
    now = 800;
    const second = batcher.submit(item('second.example.com'));
    await turn();
    expect(client.batches.map((b) => b.length)).toEqual([4, 1, 1]);
    client.answer = plain;
    answerHeld();
    await first;
    // The job's end runs after its answers are handed out; the send goes at the end of that turn.
    await turn();
    await turn();
    expect(client.batches.map((b) => b.length)).toEqual([4, 1, 1, 1]);
    await second;

    // Clients coming back together (16 arrivals within the second) gather into their share.
    const denseClient = new RecordingClient();
    const dense = new IssueBatcher(denseClient, { windowMs: 100, maxItems: 64, pipelineDepth: 2, timeoutMs: 1000, newRequestId: ids, now: () => now });
    await Promise.all(Array.from({ length: 16 }, (_, i) => dense.submit(item(`round-${i}.example.com`))));
    const next: Array<Promise<CertificateRecord>> = [];
    for (let i = 0; i < 8; i++) {
      now += 1;
      next.push(dense.submit(item(`again-${i}.example.com`)));
      await turn();
    }
    await Promise.all(next);
    expect(denseClient.batches.map((b) => b.length)).toEqual([16, 8]);
  });

  it('shares one item between identical concurrent requests, but not between different parameters', async () => {
    const client = new RecordingClient();
    const batcher = new IssueBatcher(client, { windowMs: 5, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    const [a, b, c] = await Promise.all([
      batcher.submit(item('same.example.com')),
      batcher.submit(item('SAME.example.com')),
      batcher.submit(item('same.example.com', { validityMs: 7_200_000 })),
    ]);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(client.batches[0]).toHaveLength(2);
    // Once answered, the same request goes to the queue again (the ca-service decides on reuse).
    await batcher.submit(item('same.example.com'));
    expect(client.batches).toHaveLength(2);
  });

  it('fails only the item the ca-service refused, keeping its code and status', async () => {
    const client = new RecordingClient();
    client.answer = async (items) =>
      items.map((i) =>
        i.commonName === 'bad.example.com'
          ? { requestId: i.requestId, ok: false as const, error: { code: 'INVALID_REQUEST', message: 'bad SAN', httpStatus: 400, retryable: false } }
          : { requestId: i.requestId, ok: true as const, certificate: record(i) },
      );
    const batcher = new IssueBatcher(client, { windowMs: 5, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    const [bad, good] = await Promise.allSettled([batcher.submit(item('bad.example.com')), batcher.submit(item('good.example.com'))]);
    expect(bad.status === 'rejected' && bad.reason).toMatchObject({ publicCode: 'INVALID_REQUEST', httpStatus: 400, message: 'bad SAN' });
    expect(good.status).toBe('fulfilled');
  });

  it('rejects every waiter of a batch the client could not deliver', async () => {
    const client = new RecordingClient();
    client.answer = async () => {
      throw new GatewayError('BACKEND_UNAVAILABLE', 'down', { retryAfterSeconds: 2 });
    };
    const batcher = new IssueBatcher(client, { windowMs: 1, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    const settled = await Promise.allSettled([batcher.submit(item('x.example.com')), batcher.submit(item('y.example.com'))]);
    expect(settled.map((s) => s.status === 'rejected' && (s.reason as GatewayError).code)).toEqual(['BACKEND_UNAVAILABLE', 'BACKEND_UNAVAILABLE']);
    // A retry is a new item, not the failed one shared again.
    client.answer = async (items) => items.map((i) => ({ requestId: i.requestId, ok: true as const, certificate: record(i) }));
    await expect(batcher.submit(item('x.example.com'))).resolves.toMatchObject({ commonName: 'x.example.com' });
    expect(client.batches).toHaveLength(2);
  });

  it('fails an item whose result is missing from the batch answer', async () => {
    const client = new RecordingClient();
    client.answer = async () => [];
    const batcher = new IssueBatcher(client, { windowMs: 1, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    await expect(batcher.submit(item('lost.example.com'))).rejects.toMatchObject({ code: 'ISSUANCE_FAILED', httpStatus: 502 });
  });

  it('never hands a certificate for another name to a request, whatever the CA service answers', async () => {
    const client = new RecordingClient();
    // Answers crossed: each request gets the other's certificate (a mismatched or buggy CA service).
    client.answer = async (items) =>
      items.map((i, n) => ({ requestId: i.requestId, ok: true as const, certificate: record(items[items.length - 1 - n] as IssueItem) }));
    const batcher = new IssueBatcher(client, { windowMs: 5, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    const settled = await Promise.allSettled(['a', 'b'].map((n) => batcher.submit(item(`${n}.example.com`))));
    for (const outcome of settled) {
      expect(outcome.status).toBe('rejected');
      if (outcome.status === 'rejected') expect((outcome.reason as GatewayError).code).toBe('ISSUANCE_FAILED');
    }
    // The name's case is not a different name.
    client.answer = async (items) => items.map((i) => ({ requestId: i.requestId, ok: true as const, certificate: record({ ...i, commonName: i.commonName.toUpperCase() }) }));
    await expect(batcher.submit(item('c.example.com'))).resolves.toMatchObject({ commonName: 'C.EXAMPLE.COM' });
  });

  it('drain() sends what is pending at once', async () => {
    const client = new RecordingClient();
    const batcher = new IssueBatcher(client, { windowMs: 60_000, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    const pending = batcher.submit(item('late.example.com'));
    await batcher.drain();
    await expect(pending).resolves.toMatchObject({ commonName: 'late.example.com' });
  });

  it('singleFlightKey ignores SAN order but not CSR or reason', () => {
    expect(singleFlightKey(item('a.b', { dnsNames: ['x', 'y'] }))).toBe(singleFlightKey(item('a.b', { dnsNames: ['y', 'x'] })));
    expect(singleFlightKey(item('a.b'))).not.toBe(singleFlightKey(item('a.b', { csrPem: 'csr' })));
    expect(singleFlightKey(item('a.b'))).not.toBe(singleFlightKey(item('a.b', { reason: 'rotate-manual' })));
  });
});

describe('IssueBatcher: the job contract is checked before enqueueing', () => {
  it('refuses an item the issue job schema would refuse with 400 for that request alone; the rest of the batch is issued', async () => {
    const client = new RecordingClient();
    const batcher = new IssueBatcher(client, { windowMs: 5, maxItems: 64, timeoutMs: 1000, newRequestId: ids });
    // 101 URIs: the HTTP schema bounds `sans` to 100, and a derived SPIFFE id adds one more.
    const tooMany = item('b.example.com', { uris: Array.from({ length: 101 }, (_, i) => `spiffe://cluster.local/u/${i}`) });
    const results = await Promise.allSettled([batcher.submit(item('a.example.com')), batcher.submit(tooMany), batcher.submit(item('c.example.com'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refusal = results[1];
    expect(refusal?.status === 'rejected' ? refusal.reason : undefined).toMatchObject({ code: 'INVALID_BODY', httpStatus: 400 });
    expect(client.batches.flat().map((i) => i.commonName)).toEqual(['a.example.com', 'c.example.com']);
  });
});
