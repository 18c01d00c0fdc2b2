// The gateway's batcher (IssueBatcher) alone, on a virtual clock: the bench's loads (a closed loop
// of N clients, Poisson arrivals at given rates) meet a stand-in ca-service with a modelled service
// time, and it counts, per pipeline depth, the jobs' sizes and what each request waited in the
// batcher (from submit to its job leaving). Nothing here depends on the machine's load: the
// batcher's timers and immediates run on the virtual clock, so the same seed gives the same count.
// The service model is one serial worker (the ca-service at concurrency 1): a job takes
// BENCH_REPLAY_JOB_MS + BENCH_REPLAY_ITEM_MS per item of it, plus BENCH_REPLAY_HOP_MS of transit
// (half each way, not serial). Its latencies are the model's, to compare the depths with; the
// real system's are bench:issue's.
//
//   npx tsx --conditions=development tools/bench/src/issue/batcher-replay.ts
//   BENCH_RATES=350,700,1800 BENCH_REPLAY_DEPTHS=1,2 BENCH_ROUNDS=4 ...   (rates per second)
import { IssueBatcher, type IssueClient } from '@fsm-certs/gateway';
import type { CertificateRecord, IssueItem, IssueItemResult } from '@fsm-certs/queue';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { benchEnvNumber } from '../bench-env.js';
import { median } from '../measure.js';
import { nearestRank } from '../measure.js';
import { poissonArrivals } from './open-loop.js';

interface Task {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

const realSetImmediate = globalThis.setImmediate;
const tick = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));

/** Timers and immediates on a virtual clock (ms); microtasks run for real between events. */
class VirtualLoop {
  now = 0;
  private seq = 0;
  private readonly heap: Task[] = [];
  private immediates: Task[] = [];

  timeout(fn: () => void, ms: number): Task {
    const task: Task = { at: this.now + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(task);
    return task;
  }

  immediate(fn: () => void): Task {
    const task: Task = { at: this.now, seq: this.seq++, fn, cancelled: false };
    this.immediates.push(task);
    return task;
  }

  /** Runs events in time order until none is left before `untilMs`. */
  async run(untilMs: number): Promise<void> {
    for (;;) {
      await tick();
      while (this.immediates.length > 0) {
        const turn = this.immediates;
        this.immediates = [];
        for (const task of turn) if (!task.cancelled) task.fn();
        await tick();
      }
      const next = this.pop();
      if (next === undefined || next.at > untilMs) return;
      this.now = next.at;
      if (!next.cancelled) next.fn();
    }
  }

  private before(a: Task, b: Task): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(task: Task): void {
    const h = this.heap;
    h.push(task);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      const [child, up] = [h[i] as Task, h[parent] as Task];
      if (!this.before(child, up)) break;
      [h[i], h[parent]] = [up, child];
      i = parent;
    }
  }

  private pop(): Task | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    for (let i = 0; ; ) {
      const [l, r] = [2 * i + 1, 2 * i + 2];
      let least = i;
      if (l < h.length && this.before(h[l] as Task, h[least] as Task)) least = l;
      if (r < h.length && this.before(h[r] as Task, h[least] as Task)) least = r;
      if (least === i) break;
      [h[i], h[least]] = [h[least] as Task, h[i] as Task];
      i = least;
    }
    return top;
  }
}

const loop = new VirtualLoop();
// The batcher's own timers go to the virtual clock (this process runs nothing else).
globalThis.setTimeout = ((fn: () => void, ms?: number) => loop.timeout(fn, ms ?? 0)) as unknown as typeof setTimeout;
globalThis.clearTimeout = ((task: Task | undefined) => {
  if (task !== undefined) task.cancelled = true;
}) as unknown as typeof clearTimeout;
globalThis.setImmediate = ((fn: () => void) => loop.immediate(fn)) as unknown as typeof setImmediate;
globalThis.clearImmediate = ((task: Task | undefined) => {
  if (task !== undefined) task.cancelled = true;
}) as unknown as typeof clearImmediate;

const model = {
  hopMs: benchEnvNumber('BENCH_REPLAY_HOP_MS', 0.8),
  jobMs: benchEnvNumber('BENCH_REPLAY_JOB_MS', 0.3),
  itemMs: benchEnvNumber('BENCH_REPLAY_ITEM_MS', 0.25),
};
const seconds = benchEnvNumber('BENCH_SECONDS', 10);
const rounds = benchEnvNumber('BENCH_ROUNDS', 4);
const clients = benchEnvNumber('BENCH_CLIENTS', 16);
const windowMs = benchEnvNumber('BENCH_REPLAY_WINDOW_MS', 2);
const depths = (process.env['BENCH_REPLAY_DEPTHS'] ?? '1,2').split(',').map((d) => Number(d.trim()));
const rates = (process.env['BENCH_RATES'] ?? '350,700,1000,1800,3200').split(',').map((r) => Number(r.trim()));
if ([...depths, ...rates].some((n) => !(n > 0))) throw new Error('BENCH_REPLAY_DEPTHS and BENCH_RATES are positive numbers, comma-separated');
const warmupMs = 1000;

/** The stand-in ca-service: one serial worker behind a transit time. */
class ModelClient implements IssueClient {
  private workerFreeAt = 0;
  readonly jobs: number[] = [];
  readonly sentAt = new Map<string, number>();

  issueBatch(items: readonly IssueItem[]): Promise<readonly IssueItemResult[]> {
    if (loop.now >= warmupMs) this.jobs.push(items.length);
    for (const item of items) this.sentAt.set(item.requestId, loop.now);
    const start = Math.max(loop.now + model.hopMs / 2, this.workerFreeAt);
    this.workerFreeAt = start + model.jobMs + model.itemMs * items.length;
    const results = items.map((item) => ({ requestId: item.requestId, ok: true as const, certificate: { commonName: item.commonName } as unknown as CertificateRecord }));
    return new Promise((resolve) => loop.timeout(() => resolve(results), this.workerFreeAt + model.hopMs / 2 - loop.now));
  }

  async queueDepth(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}
}

interface Count {
  readonly itemsPerJob: number;
  readonly waitMeanMs: number;
  readonly waitP99Ms: number;
  /** Requests that waited the whole window (their job left on the timer), per 100. */
  readonly waitedWindowPct: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly perSecond: number;
}

async function replay(depth: number, load: { readonly clients: number } | { readonly rate: number; readonly seed: number }): Promise<Count> {
  loop.now = 0;
  const client = new ModelClient();
  let lastId = '';
  let ids = 0;
  const batcher = new IssueBatcher(client, {
    windowMs,
    maxItems: 64,
    pipelineDepth: depth,
    timeoutMs: 60_000,
    now: () => loop.now,
    newRequestId: () => (lastId = `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`),
  });
  const endMs = warmupMs + seconds * 1000;
  const latencies: number[] = [];
  const waits: number[] = [];
  const one = async (name: string): Promise<void> => {
    const arrived = loop.now;
    const answer = batcher.submit({ commonName: `${name}.replay.local`, dnsNames: [], uris: [], ipAddresses: [], validityMs: 86_400_000, keyAlgorithm: 'ecdsa-p256', reason: 'request' });
    const id = lastId;
    await answer;
    if (arrived >= warmupMs && arrived < endMs) {
      latencies.push(loop.now - arrived);
      waits.push((client.sentAt.get(id) ?? arrived) - arrived);
    }
    client.sentAt.delete(id);
  };
  if ('clients' in load) {
    // Each client asks again shortly after its answer (its HTTP round trip), spread as 16 sockets are.
    const rng = xoroshiro128plus(7);
    let n = 0;
    const lane = async (): Promise<void> => {
      while (loop.now < endMs) {
        await one(`c${n++}`);
        await new Promise<void>((resolve) => loop.timeout(resolve, 0.05 + 0.45 * uniformFloat64(rng)));
      }
    };
    const lanes = Array.from({ length: load.clients }, () => lane());
    await loop.run(Number.POSITIVE_INFINITY);
    await Promise.all(lanes);
  } else {
    const arrivals = poissonArrivals({ ratePerSecond: load.rate, durationMs: endMs, seed: load.seed });
    const sent: Array<Promise<void>> = [];
    arrivals.forEach((at, i) => loop.timeout(() => sent.push(one(`o${i}`)), at));
    await loop.run(Number.POSITIVE_INFINITY);
    await Promise.all(sent);
  }
  const sortedLatencies = latencies.sort((a, b) => a - b);
  const sortedWaits = waits.sort((a, b) => a - b);
  const jobs = client.jobs.length;
  return {
    itemsPerJob: round2(client.jobs.reduce((a, b) => a + b, 0) / Math.max(1, jobs)),
    waitMeanMs: round2(sortedWaits.reduce((a, b) => a + b, 0) / Math.max(1, sortedWaits.length)),
    waitP99Ms: round2(nearestRank(sortedWaits, 0.99)),
    waitedWindowPct: round2((100 * sortedWaits.filter((w) => w >= windowMs - 1e-9).length) / Math.max(1, sortedWaits.length)),
    p50Ms: round2(nearestRank(sortedLatencies, 0.5)),
    p99Ms: round2(nearestRank(sortedLatencies, 0.99)),
    perSecond: Math.round(sortedLatencies.length / seconds),
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

const loads: Array<{ readonly label: string; readonly clients?: number; readonly rate?: number }> = [{ label: `closed, ${clients} clients`, clients }, ...rates.map((rate) => ({ label: `${rate}/s`, rate }))];
for (const load of loads) {
  const byDepth = new Map<number, Count[]>();
  // The closed loop has no random arrivals: one round says it all.
  const loadRounds = load.clients !== undefined ? 1 : rounds;
  for (let round = 1; round <= loadRounds; round++) {
    for (const depth of depths) {
      const count = await replay(depth, load.clients !== undefined ? { clients: load.clients } : { rate: load.rate ?? 1, seed: round });
      byDepth.set(depth, [...(byDepth.get(depth) ?? []), count]);
      console.log(JSON.stringify({ scenario: 'batcher-replay', load: load.label, round, depth, ...count }));
    }
  }
  const medians = Object.fromEntries(
    [...byDepth].map(([depth, counts]) => [
      `depth${depth}`,
      Object.fromEntries((Object.keys(counts[0] ?? {}) as Array<keyof Count>).map((key) => [key, round2(median(counts.map((c) => c[key])))])),
    ]),
  );
  console.log(JSON.stringify({ scenario: 'batcher-replay-summary', load: load.label, model, windowMs, rounds: loadRounds, median: medians }));
}
