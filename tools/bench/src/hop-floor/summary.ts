// hop-floor-bench's arithmetic: one round's figures from what was counted in it, the medians and
// stream/bullmq ratios over the rounds, and the top-level Redis commands per round trip tallied
// from MONITOR lines. Pure, so it is tested on its own (summary.test.ts).
import { median, nearestRank } from '../measure.js';

export const HOP_PATHS = ['bullmq', 'stream'] as const;
export type HopPath = (typeof HOP_PATHS)[number];

/** The processes whose CPU a round counts. */
export const HOP_PROCESSES = ['producer', 'consumer', 'redis'] as const;
export type HopProcess = (typeof HOP_PROCESSES)[number];

/** What the orchestrator counted in one measured slice of one path. */
export interface RoundInput {
  readonly path: HopPath;
  readonly load: string;
  readonly round: number;
  /** Items per round trip (the job's size). */
  readonly items: number;
  readonly roundTrips: number;
  readonly elapsedMs: number;
  /** Each round trip's time from the producer's send to its answer, in µs. */
  readonly latenciesUs: readonly number[];
  /** CPU (utime + stime) each process spent over the slice, in ms; undefined where /proc said nothing. */
  readonly cpuMs: Readonly<Record<HopProcess, number | undefined>>;
}

export interface RoundFigures {
  readonly path: HopPath;
  readonly load: string;
  readonly round: number;
  readonly items: number;
  readonly round_trips: number;
  readonly round_trips_per_s: number;
  readonly p50_us: number;
  readonly p99_us: number;
  /** µs of CPU per round trip by process, and their sum (absent when a process was not read). */
  readonly cpu_us_per_round_trip: Readonly<Partial<Record<HopProcess | 'total', number>>>;
  /** The sum per item of the job. */
  readonly cpu_us_per_item: number | undefined;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;

export function roundFigures(input: RoundInput): RoundFigures {
  const sorted = [...input.latenciesUs].sort((a, b) => a - b);
  const perRoundTrip: Partial<Record<HopProcess | 'total', number>> = {};
  let total = 0;
  let complete = input.roundTrips > 0;
  for (const name of HOP_PROCESSES) {
    const ms = input.cpuMs[name];
    if (ms === undefined || input.roundTrips === 0) {
      complete = false;
      continue;
    }
    const us = (ms * 1000) / input.roundTrips;
    perRoundTrip[name] = round1(us);
    total += us;
  }
  if (complete) perRoundTrip.total = round1(total);
  return {
    path: input.path,
    load: input.load,
    round: input.round,
    items: input.items,
    round_trips: input.roundTrips,
    round_trips_per_s: input.elapsedMs > 0 ? Math.round((input.roundTrips * 1000) / input.elapsedMs) : 0,
    p50_us: Math.round(nearestRank(sorted, 0.5)),
    p99_us: Math.round(nearestRank(sorted, 0.99)),
    cpu_us_per_round_trip: perRoundTrip,
    cpu_us_per_item: complete ? round1(total / input.items) : undefined,
  };
}

export interface PathMedians {
  readonly rounds: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly round_trips_per_s: number;
  readonly cpu_us_per_round_trip: Readonly<Partial<Record<HopProcess | 'total', number>>>;
  readonly cpu_us_per_item: number | undefined;
}

function medianOf(rounds: readonly RoundFigures[], pick: (r: RoundFigures) => number | undefined): number | undefined {
  const values = rounds.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length === 0 ? undefined : round1(median(values));
}

export function pathMedians(rounds: readonly RoundFigures[]): PathMedians {
  const cpu: Partial<Record<HopProcess | 'total', number>> = {};
  for (const name of [...HOP_PROCESSES, 'total'] as const) {
    const m = medianOf(rounds, (r) => r.cpu_us_per_round_trip[name]);
    if (m !== undefined) cpu[name] = m;
  }
  return {
    rounds: rounds.length,
    p50_us: medianOf(rounds, (r) => r.p50_us) ?? NaN,
    p99_us: medianOf(rounds, (r) => r.p99_us) ?? NaN,
    round_trips_per_s: medianOf(rounds, (r) => r.round_trips_per_s) ?? NaN,
    cpu_us_per_round_trip: cpu,
    cpu_us_per_item: medianOf(rounds, (r) => r.cpu_us_per_item),
  };
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? undefined : Math.round((a / b) * 100) / 100;

/** Rounds (paired by number) where the stream path's figure was lower, out of the rounds both have. */
function streamLower(bullmq: readonly RoundFigures[], stream: readonly RoundFigures[], pick: (r: RoundFigures) => number | undefined): string {
  let lower = 0;
  let both = 0;
  for (const s of stream) {
    const b = bullmq.find((r) => r.round === s.round);
    const sv = pick(s);
    const bv = b === undefined ? undefined : pick(b);
    if (sv === undefined || bv === undefined) continue;
    both += 1;
    if (sv < bv) lower += 1;
  }
  return `${lower}/${both}`;
}

export interface LoadSummary {
  readonly load: string;
  readonly items: number;
  readonly bullmq: PathMedians;
  readonly stream: PathMedians;
  /** stream's median over bullmq's, per figure. */
  readonly stream_over_bullmq: Readonly<Record<string, number | undefined>>;
  /** Rounds where the stream path was lower (p50, p99, CPU per round trip), out of the rounds both ran. */
  readonly stream_lower_rounds: Readonly<Record<string, string>>;
}

export function loadSummary(load: string, rounds: readonly RoundFigures[]): LoadSummary {
  const mine = rounds.filter((r) => r.load === load);
  const bullmqRounds = mine.filter((r) => r.path === 'bullmq');
  const streamRounds = mine.filter((r) => r.path === 'stream');
  const bullmq = pathMedians(bullmqRounds);
  const stream = pathMedians(streamRounds);
  const ratios: Record<string, number | undefined> = {
    p50_us: ratio(stream.p50_us, bullmq.p50_us),
    p99_us: ratio(stream.p99_us, bullmq.p99_us),
    round_trips_per_s: ratio(stream.round_trips_per_s, bullmq.round_trips_per_s),
  };
  for (const name of [...HOP_PROCESSES, 'total'] as const) {
    ratios[`cpu_${name}`] = ratio(stream.cpu_us_per_round_trip[name], bullmq.cpu_us_per_round_trip[name]);
  }
  return {
    load,
    items: mine[0]?.items ?? 0,
    bullmq,
    stream,
    stream_over_bullmq: ratios,
    stream_lower_rounds: {
      p50_us: streamLower(bullmqRounds, streamRounds, (r) => r.p50_us),
      p99_us: streamLower(bullmqRounds, streamRounds, (r) => r.p99_us),
      cpu_total: streamLower(bullmqRounds, streamRounds, (r) => r.cpu_us_per_round_trip.total),
    },
  };
}

/** One top-level command MONITOR showed: the process that sent it and what it was. */
export interface SeenCommand {
  readonly owner: string;
  readonly command: string;
}

/**
 * Top-level commands per round trip, by sender and command (`producer evalsha addStandardJob`),
 * sorted by count, and their total. Commands of senders not in `owners` (the bench's own probes)
 * are left out.
 */
export function commandsPerRoundTrip(seen: readonly SeenCommand[], roundTrips: number, owners: readonly string[]): { readonly total: number; readonly by_command: Readonly<Record<string, number>> } {
  const counts = new Map<string, number>();
  let total = 0;
  for (const { owner, command } of seen) {
    if (!owners.includes(owner)) continue;
    total += 1;
    const key = `${owner} ${command}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const per = (n: number): number => (roundTrips > 0 ? Math.round((n / roundTrips) * 100) / 100 : NaN);
  return {
    total: per(total),
    by_command: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key, n]) => [key, per(n)])),
  };
}
