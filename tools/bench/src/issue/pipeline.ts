// Reads what timeline-probe.ts wrote in each app during a closed-loop run of many clients
// (`BENCH_TIMELINE=1 BENCH_CLIENTS=16 npm run bench:critical-path`) and follows every job through
// the pipeline by its id: how long its first request waited for the batch to leave (fill), the
// add, the wait in the queue until a ca-service processor took it, the processor, the completion,
// and how long the finished job's event took to reach the gateway's reader (answer). It also
// says how full the pipeline was (jobs in flight when a batch left, processors busy when one
// started), for what share of the run the ca-service processed nothing while a job waited for it,
// and which stage and which collections (mark-compacts in any process) the slowest jobs met.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { TimelineFile } from './timeline-probe.js';

interface JobTimes {
  items: number;
  /** When the gateway received the oldest HTTP request of the batch. */
  firstRequestUs?: number;
  addUs?: number;
  addedUs?: number;
  processStartUs?: number;
  processEndUs?: number;
  completedUs?: number;
  dispatchUs?: number;
  /** Jobs added and not yet answered when this one was added (itself excluded). */
  inFlightAtAdd?: number;
  /** The ca-service's processors already busy when this one's started. */
  busyAtStart?: number;
}

interface Pause {
  readonly app: string;
  readonly startUs: number;
  readonly endUs: number;
}

const STAGES = ['fill', 'add', 'queue', 'process', 'complete', 'answer', 'total'] as const;
type Stage = (typeof STAGES)[number];

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

const ms = (us: number): number => Number((us / 1000).toFixed(2));

/** `label<sign> <jobId> [items | event]` of a probe mark, or undefined for another mark. */
function jobMark(detail: string): { readonly label: string; readonly id: string; readonly extra: string } | undefined {
  const [head, id, extra] = detail.split(' ');
  if (head === undefined || id === undefined || id === '') return undefined;
  return { label: head, id, extra: extra ?? '' };
}

function stageTimes(job: JobTimes): Partial<Record<Stage, number>> | undefined {
  const { firstRequestUs, addUs, addedUs, processStartUs, processEndUs, completedUs, dispatchUs } = job;
  if (firstRequestUs === undefined || addUs === undefined || addedUs === undefined || processStartUs === undefined) return undefined;
  if (processEndUs === undefined || completedUs === undefined || dispatchUs === undefined) return undefined;
  return {
    fill: addUs - firstRequestUs,
    add: addedUs - addUs,
    queue: processStartUs - addedUs,
    process: processEndUs - processStartUs,
    complete: completedUs - processEndUs,
    answer: dispatchUs - completedUs,
    total: dispatchUs - firstRequestUs,
  };
}

/** Length of the union of [start, end) intervals, clipped to [from, to). */
function covered(intervals: ReadonlyArray<readonly [number, number]>, from: number, to: number): number {
  const sorted = intervals.map(([s, e]) => [Math.max(s, from), Math.min(e, to)] as const).filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = from;
  for (const [s, e] of sorted) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

/** Parts of `waits` not covered by any of `busy`: time a job waited for a processor while none ran. */
function uncovered(waits: ReadonlyArray<readonly [number, number]>, busy: ReadonlyArray<readonly [number, number]>, from: number, to: number): number {
  const both = waits.flatMap(([s, e]) => busy.filter(([b, f]) => f > s && b < e).map(([b, f]) => [Math.max(s, b), Math.min(e, f)] as const));
  return covered(waits, from, to) - covered(both, from, to);
}

export function pipelineReport(dir: string, fromUs: number, toUs: number) {
  const jobs = new Map<string, JobTimes>();
  const job = (id: string): JobTimes => {
    let found = jobs.get(id);
    if (found === undefined) {
      found = { items: 0 };
      jobs.set(id, found);
    }
    return found;
  };
  const pauses: Pause[] = [];
  const minorPauseUs = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    const file = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as TimelineFile;
    if (file.app === 'rotation-worker') continue;
    const arrivals: number[] = [];
    let inFlight = 0;
    let busy = 0;
    for (const [atUs, kind, , detail] of file.events) {
      if (kind === 'req' && detail.startsWith('POST /v1/certificates')) arrivals.push(atUs);
      if (kind !== 'm') continue;
      if (detail.startsWith('gc ')) {
        const [, major, pause] = detail.split(' ');
        const pauseUs = Number(pause ?? 0);
        if (atUs < fromUs || atUs > toUs) continue;
        if (major === 'major') pauses.push({ app: file.app, startUs: atUs, endUs: atUs + pauseUs });
        else minorPauseUs.set(file.app, (minorPauseUs.get(file.app) ?? 0) + pauseUs);
        continue;
      }
      const mark = jobMark(detail);
      if (mark === undefined) continue;
      const times = job(mark.id);
      switch (mark.label) {
        case 'queue.add>':
          times.items = Number(mark.extra);
          times.addUs = atUs;
          times.inFlightAtAdd = inFlight;
          inFlight += 1;
          // The batch took the oldest requests still waiting (the batcher sends all it holds).
          times.firstRequestUs = arrivals.splice(0, Math.max(1, times.items))[0];
          break;
        case 'queue.add<':
          times.addedUs = atUs;
          break;
        case 'finishedJobs.dispatch>':
          if (mark.extra !== 'completed' && mark.extra !== 'failed') break;
          times.dispatchUs = atUs;
          inFlight = Math.max(0, inFlight - 1);
          break;
        case 'worker.processor>':
          times.processStartUs = atUs;
          times.busyAtStart = busy;
          busy += 1;
          break;
        case 'worker.processor<':
        case 'worker.processor!':
          times.processEndUs = atUs;
          busy = Math.max(0, busy - 1);
          break;
        case 'job.moveToCompleted<':
          times.completedUs = atUs;
          break;
        default:
          break;
      }
    }
  }
  const measured = [...jobs.values()].filter((j) => j.addUs !== undefined && j.addUs >= fromUs && j.addUs <= toUs);
  const complete = measured.flatMap((j) => {
    const stages = stageTimes(j);
    return stages === undefined ? [] : [{ job: j, stages }];
  });
  const stageSummary = (list: typeof complete) =>
    Object.fromEntries(
      STAGES.map((stage) => {
        const values = list.map((c) => c.stages[stage] ?? Number.NaN).filter(Number.isFinite);
        return [stage, { p50: ms(percentile(values, 0.5)), p90: ms(percentile(values, 0.9)), p99: ms(percentile(values, 0.99)) }];
      }),
    );
  const histogram = (values: readonly number[]) => {
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return Object.fromEntries([...counts].sort((a, b) => a[0] - b[0]));
  };
  const processing = complete.map(({ job: j }) => [j.processStartUs ?? 0, j.processEndUs ?? 0] as const);
  const queued = complete.map(({ job: j }) => [j.addedUs ?? 0, j.processStartUs ?? 0] as const);
  const inSystem = complete.map(({ job: j }) => [j.addUs ?? 0, j.dispatchUs ?? 0] as const);
  const span = toUs - fromUs;
  // The slowest 1% of jobs (first request to the answer's event): where their time went, and
  // whether a mark-compact paused some process while they were in the pipeline.
  const byTotal = [...complete].sort((a, b) => (b.stages.total ?? 0) - (a.stages.total ?? 0));
  const slowest = byTotal.slice(0, Math.max(1, Math.ceil(byTotal.length / 100)));
  const metMajor = (j: JobTimes): string[] =>
    pauses.filter((p) => p.endUs > (j.firstRequestUs ?? 0) && p.startUs < (j.dispatchUs ?? 0)).map((p) => `${p.app} ${ms(p.endUs - p.startUs)} ms`);
  const majorsBy = new Map<string, { count: number; pauseUs: number }>();
  for (const p of pauses) {
    const entry = majorsBy.get(p.app) ?? { count: 0, pauseUs: 0 };
    entry.count += 1;
    entry.pauseUs += p.endUs - p.startUs;
    majorsBy.set(p.app, entry);
  }
  return {
    jobs: complete.length,
    items_per_job: { p10: percentile(complete.map((c) => c.job.items), 0.1), p50: percentile(complete.map((c) => c.job.items), 0.5), p90: percentile(complete.map((c) => c.job.items), 0.9) },
    items_histogram: histogram(complete.map((c) => c.job.items)),
    in_flight_at_add_histogram: histogram(complete.map((c) => c.job.inFlightAtAdd ?? 0)),
    processors_busy_at_start_histogram: histogram(complete.map((c) => c.job.busyAtStart ?? 0)),
    stage_ms: stageSummary(complete),
    // Shares of the measured time.
    ca_processing_share: Number((covered(processing, fromUs, toUs) / span).toFixed(3)),
    job_queued_while_ca_idle_share: Number((uncovered(queued, processing, fromUs, toUs) / span).toFixed(3)),
    no_job_in_flight_share: Number(((span - covered(inSystem, fromUs, toUs)) / span).toFixed(3)),
    major_gc: Object.fromEntries([...majorsBy].map(([app, m]) => [app, { count: m.count, pause_ms: ms(m.pauseUs) }])),
    minor_gc_pause_ms: Object.fromEntries([...minorPauseUs].map(([app, us]) => [app, ms(us)])),
    slowest_jobs: {
      count: slowest.length,
      stage_ms: stageSummary(slowest),
      items: slowest.map((c) => c.job.items),
      in_flight_at_add: slowest.map((c) => c.job.inFlightAtAdd ?? 0),
      met_major_gc: slowest.filter((c) => metMajor(c.job).length > 0).length,
      examples: slowest.slice(0, 5).map((c) => ({ items: c.job.items, ...Object.fromEntries(STAGES.map((s) => [s, ms(c.stages[s] ?? Number.NaN)])), major_gc: metMajor(c.job) })),
    },
  };
}
