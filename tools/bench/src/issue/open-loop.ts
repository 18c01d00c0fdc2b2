// The open-loop driver: requests arrive at exponentially distributed gaps (a Poisson stream) at
// an offered rate, each sent at its time whatever earlier ones are doing, as sidecars starting in
// a rollout would. A closed loop (load.ts) sends the next request only after an answer, so it
// never shows what a request arriving in the middle of a batch waits; this does.
//
// Each latency runs from the request's scheduled arrival, not from when the client got round to
// sending it: a client busy reading answers then counts against the system (no coordinated
// omission). `startLagP99Ms` says how late the client itself sent them.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { z } from 'zod';
import { nearestRank } from '../measure.js';
import { errorMessage, loadResult, type LoadResult } from './load.js';

/** A BENCH_RATES entry: certificates per second (`300`), or a share of the closed loop's throughput (`10%`). */
export const offeredRateSchema = z.union([
  z.string().regex(/^\d+(\.\d+)?%$/).transform((label) => ({ label, percentOfClosed: Number(label.slice(0, -1)) })),
  z.string().regex(/^\d+(\.\d+)?$/, 'BENCH_RATES are certificates per second (300) or percentages of the closed loop (10%)').transform((label) => ({ label, perSecond: Number(label) })),
]);
export type OfferedRate = z.infer<typeof offeredRateSchema>;

/** The arrivals per second an entry offers; a share needs the closed loop's throughput (`closed`). */
export function offeredPerSecond(rate: OfferedRate, closed: number | undefined): number {
  if (!('percentOfClosed' in rate)) return rate.perSecond;
  if (closed === undefined) throw new Error(`BENCH_RATES=${rate.label} is a share of the closed loop, which did not run`);
  return Math.max(1, Math.round((closed * rate.percentOfClosed) / 100));
}

/**
 * The driver's time: monotonic, below a millisecond (core's Clock is epoch milliseconds), with
 * sleeps; the real one, or a virtual one in tests (no timing in assertions).
 */
export interface LoadTimer {
  /** Milliseconds from any fixed origin. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTimer: LoadTimer = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The arrival times (ms from the start, ascending) of a Poisson stream of `ratePerSecond` over
 * `durationMs`, at most `maxArrivals` of them. The same seed gives the same times.
 */
export function poissonArrivals(options: { readonly ratePerSecond: number; readonly durationMs: number; readonly seed: number; readonly maxArrivals?: number }): number[] {
  if (!(options.ratePerSecond > 0)) throw new Error(`the offered rate must be above 0 per second (got ${options.ratePerSecond})`);
  const rng = xoroshiro128plus(options.seed);
  const meanGapMs = 1000 / options.ratePerSecond;
  const max = options.maxArrivals ?? Number.POSITIVE_INFINITY;
  const times: number[] = [];
  // 1 - u is in (0, 1]: its logarithm is finite.
  for (let t = -Math.log(1 - uniformFloat64(rng)) * meanGapMs; t < options.durationMs && times.length < max; t += -Math.log(1 - uniformFloat64(rng)) * meanGapMs) times.push(t);
  return times;
}

export interface OpenLoopResult extends LoadResult {
  readonly offeredPerSecond: number;
  /** Arrivals in the measured stream. */
  readonly arrivals: number;
  /** Arrivals not sent because `maxOutstanding` requests were already unanswered (none waited). */
  readonly dropped: number;
  /** Sent but neither answered nor failed when the drain bound ran out. */
  readonly unfinished: number;
  /** The most requests unanswered at once. */
  readonly peakOutstanding: number;
  /** How late the client sent its requests against their arrival times (p99, ms). */
  readonly startLagP99Ms: number;
}

export interface OpenLoopOptions {
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly seed: number;
  /** Arrivals at the most (default: no bound beyond the duration). */
  readonly maxArrivals?: number;
  /** Unanswered requests at the most; an arrival beyond it is counted in `dropped`, not sent. */
  readonly maxOutstanding: number;
  /** After the last arrival, how long to wait for answers (default 30 s); the rest is `unfinished`. */
  readonly drainMs?: number;
  /** An unmeasured stream at the same rate first (another seed), drained before measuring. */
  readonly warmupMs?: number;
  /** Called when the warm-up has drained and measuring starts. */
  readonly onMeasureStart?: () => void;
  /** One request; `seq` counts every arrival (warm-up first), so names never repeat. */
  readonly request: (seq: number) => Promise<void>;
  readonly timer?: LoadTimer;
}

interface Stream {
  readonly latencies: number[];
  readonly startLags: number[];
  errors: number;
  dropped: number;
  unfinished: number;
  peakOutstanding: number;
  firstError: string | undefined;
  readonly startedAt: number;
  lastAnswerAt: number;
}

/** Sends `times` (ms after now) as they come due and waits for the answers (at most `drainMs` after the last arrival). */
async function runStream(times: readonly number[], options: OpenLoopOptions, nextSeq: () => number): Promise<Stream> {
  const timer = options.timer ?? realTimer;
  const startedAt = timer.now();
  const stream: Stream = { latencies: [], startLags: [], errors: 0, dropped: 0, unfinished: 0, peakOutstanding: 0, firstError: undefined, startedAt, lastAnswerAt: startedAt };
  const outstanding = new Set<Promise<void>>();
  const send = (due: number): void => {
    if (outstanding.size >= options.maxOutstanding) {
      stream.dropped += 1;
      return;
    }
    const sentAt = timer.now();
    stream.startLags.push(sentAt - due);
    const answered = options.request(nextSeq()).then(
      () => {
        stream.lastAnswerAt = timer.now();
        stream.latencies.push(stream.lastAnswerAt - due);
      },
      (error: unknown) => {
        stream.lastAnswerAt = timer.now();
        stream.errors += 1;
        stream.firstError ??= errorMessage(error);
      },
    );
    const tracked = answered.finally(() => outstanding.delete(tracked));
    outstanding.add(tracked);
    stream.peakOutstanding = Math.max(stream.peakOutstanding, outstanding.size);
  };
  let next = 0;
  while (next < times.length) {
    // Everything due by now (to a microsecond: a timer can wake a rounding error early) goes out
    // in this turn; the timer wakes us for the next one.
    const elapsed = timer.now() - startedAt + 0.001;
    while (next < times.length && (times[next] ?? Infinity) <= elapsed) send(startedAt + (times[next++] ?? 0));
    if (next < times.length) await timer.sleep(Math.max(0, (times[next] ?? 0) - (timer.now() - startedAt)));
  }
  if (outstanding.size > 0) {
    let drained = false;
    await Promise.race([Promise.all(outstanding).then(() => (drained = true)), timer.sleep(options.drainMs ?? 30_000)]);
    if (!drained) stream.unfinished = outstanding.size;
  }
  return stream;
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  let seq = 0;
  const nextSeq = (): number => seq++;
  if ((options.warmupMs ?? 0) > 0) {
    // A seed of its own: the measured stream is the same whether or not a warm-up ran.
    await runStream(poissonArrivals({ ratePerSecond: options.ratePerSecond, durationMs: options.warmupMs ?? 0, seed: options.seed ^ 0x5eed }), options, nextSeq);
  }
  const times = poissonArrivals(options);
  options.onMeasureStart?.();
  const stream = await runStream(times, options, nextSeq);
  // Until the last answer (or the end of the stream, if that came later): a stream the system
  // could not keep up with shows as throughput below the offered rate.
  const now = (options.timer ?? realTimer).now();
  const endedAt = stream.unfinished > 0 ? now : Math.min(now, Math.max(stream.lastAnswerAt, stream.startedAt + options.durationMs));
  const result = loadResult({ latencies: stream.latencies, errors: stream.errors, seconds: (endedAt - stream.startedAt) / 1000, firstError: stream.firstError });
  return {
    ...result,
    offeredPerSecond: options.ratePerSecond,
    arrivals: times.length,
    dropped: stream.dropped,
    unfinished: stream.unfinished,
    peakOutstanding: stream.peakOutstanding,
    startLagP99Ms: nearestRank(stream.startLags.sort((a, b) => a - b), 0.99),
  };
}
