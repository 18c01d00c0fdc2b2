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
import { percentile } from '../measure.js';
import type { TimelineFile } from './timeline-probe.js';

/** One HTTP request the gateway received (issue), and the job that carried it. */
interface RequestTimes {
  readonly receivedUs: number;
  /** When the gateway wrote the answer's head. */
  answeredUs?: number;
  job?: JobTimes;
}

interface JobTimes {
  readonly id: string;
  items: number;
  requests: RequestTimes[];
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

export interface Pause {
  readonly app: string;
  readonly startUs: number;
  readonly endUs: number;
  readonly major: boolean;
}

/**
 * What the bench saw from outside the apps while they ran (all times µs since the epoch): each
 * process's cumulative run-queue wait (/proc/<pid>/schedstat: ready to run, no core free) at
 * sampled times, the spans Redis spent rewriting its AOF, and the load client's own collections.
 */
export interface RunContext {
  readonly runQueue?: Readonly<Record<string, ReadonlyArray<readonly [atUs: number, waitedUs: number]>>>;
  readonly aofRewrites?: ReadonlyArray<readonly [number, number]>;
  readonly clientPauses?: readonly Pause[];
  /** Also split the run into windows this long (µs): each one's p99 and whether an AOF rewrite ran in it. */
  readonly windowUs?: number;
}

const STAGES = ['fill', 'add', 'queue', 'process', 'complete', 'answer', 'total'] as const;
type Stage = (typeof STAGES)[number];
/** A request's stages: its own wait for the batch to leave, its job's stages, then the gateway's answer. */
const REQUEST_STAGES = ['wait', 'add', 'queue', 'process', 'complete', 'answer', 'reply', 'total'] as const;
type RequestStage = (typeof REQUEST_STAGES)[number];


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

function requestStages(request: RequestTimes): Record<RequestStage, number> | undefined {
  const { job, answeredUs, receivedUs } = request;
  if (job === undefined || answeredUs === undefined || job.addUs === undefined) return undefined;
  const stages = stageTimes(job);
  if (stages === undefined || job.dispatchUs === undefined) return undefined;
  return {
    wait: job.addUs - receivedUs,
    add: stages.add ?? 0,
    queue: stages.queue ?? 0,
    process: stages.process ?? 0,
    complete: stages.complete ?? 0,
    answer: stages.answer ?? 0,
    reply: answeredUs - job.dispatchUs,
    total: answeredUs - receivedUs,
  };
}

/** Run-queue wait of a process between two times, from cumulative samples (the samples bracketing the span). */
function waitedIn(samples: ReadonlyArray<readonly [number, number]>, fromUs: number, toUs: number): number {
  let before: number | undefined;
  let after: number | undefined;
  for (const [atUs, waited] of samples) {
    if (atUs <= fromUs) before = waited;
    if (atUs >= toUs) {
      after = waited;
      break;
    }
  }
  return before === undefined || after === undefined ? 0 : after - before;
}

export function pipelineReport(dir: string, fromUs: number, toUs: number, context: RunContext = {}) {
  const jobs = new Map<string, JobTimes>();
  const requests: RequestTimes[] = [];
  const job = (id: string): JobTimes => {
    let found = jobs.get(id);
    if (found === undefined) {
      found = { id, items: 0, requests: [] };
      jobs.set(id, found);
    }
    return found;
  };
  const pauses: Pause[] = [];
  /** Every collection of every process (the load client's too), for the slow requests' windows. */
  const allPauses: Pause[] = [...(context.clientPauses ?? [])];
  const minorPauseUs = new Map<string, number>();
  /** Pauses in the measured seconds by process and kind (`issuer-gateway minor`). */
  const pausesByKind = new Map<string, number[]>();
  for (const name of readdirSync(dir)) {
    const file = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as TimelineFile;
    if (file.app === 'rotation-worker') continue;
    const arrivals: RequestTimes[] = [];
    /** Requests not yet answered, by connection (a kept-alive connection carries one at a time). */
    const unanswered = new Map<number, RequestTimes>();
    let inFlight = 0;
    let busy = 0;
    for (const [atUs, kind, connection, detail] of file.events) {
      if (kind === 'req' && detail.startsWith('POST /v1/certificates')) {
        const request: RequestTimes = { receivedUs: atUs };
        arrivals.push(request);
        requests.push(request);
        unanswered.set(connection, request);
      }
      if (kind === 'w' && detail.startsWith('HTTP/1.1')) {
        const request = unanswered.get(connection);
        if (request !== undefined) request.answeredUs = atUs;
        unanswered.delete(connection);
      }
      if (kind !== 'm') continue;
      if (detail.startsWith('gc ')) {
        const [, major, pause] = detail.split(' ');
        const pauseUs = Number(pause ?? 0);
        allPauses.push({ app: file.app, startUs: atUs, endUs: atUs + pauseUs, major: major === 'major' });
        if (atUs < fromUs || atUs > toUs) continue;
        const byKind = pausesByKind.get(`${file.app} ${major ?? ''}`) ?? [];
        byKind.push(pauseUs);
        pausesByKind.set(`${file.app} ${major ?? ''}`, byKind);
        if (major === 'major') pauses.push({ app: file.app, startUs: atUs, endUs: atUs + pauseUs, major: true });
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
          times.requests = arrivals.splice(0, Math.max(1, times.items));
          for (const request of times.requests) request.job = times;
          times.firstRequestUs = times.requests[0]?.receivedUs;
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
    ...requestReport(requests, complete.map((c) => c.job), allPauses, context, fromUs, toUs),
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
    gc_pauses_ms: Object.fromEntries(
      [...pausesByKind].map(([name, us]) => [name, { count: us.length, p50: ms(percentile(us, 0.5)), p90: ms(percentile(us, 0.9)), max: ms(Math.max(...us)), total: ms(us.reduce((a, b) => a + b, 0)) }]),
    ),
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

/** A slow request met this when it overlapped it for at least this share of its time (or any major collection). */
const MET_SHARE = 0.2;

/**
 * Every issue request received in [fromUs, toUs] followed through its job, and the slowest 2% read
 * step by step: which stage took their time, how long their job waited in the queue behind
 * other jobs' processing, and what else happened in their window (collections in any process,
 * run-queue waits, an AOF rewrite). `slow_request_causes` counts the slow requests that met each,
 * beside the share of all requests that met it: a cause is one the slow requests meet more often.
 */
function requestReport(all: readonly RequestTimes[], jobsDone: readonly JobTimes[], pauses: readonly Pause[], context: RunContext, fromUs: number, toUs: number) {
  const followed = all
    .filter((r) => r.receivedUs >= fromUs && r.receivedUs <= toUs)
    .flatMap((request) => {
      const stages = requestStages(request);
      return stages === undefined ? [] : [{ request, stages }];
    });
  const processing = jobsDone.flatMap((j) => (j.processStartUs === undefined || j.processEndUs === undefined ? [] : [{ id: j.id, span: [j.processStartUs, j.processEndUs] as const }]));
  /** The part of a job's queue wait while a processor ran other jobs. */
  const queuedBehind = (j: JobTimes): number => {
    if (j.addedUs === undefined || j.processStartUs === undefined) return 0;
    const others = processing.filter((p) => p.id !== j.id).map((p) => p.span);
    return covered(others, j.addedUs, j.processStartUs);
  };
  const window = (r: RequestTimes): readonly [number, number] => [r.receivedUs, r.answeredUs ?? r.receivedUs];
  const pausedIn = (r: RequestTimes, major: boolean): Map<string, number> => {
    const [from, to] = window(r);
    const out = new Map<string, number>();
    for (const p of pauses) if (p.major === major && p.endUs > from && p.startUs < to) out.set(p.app, (out.get(p.app) ?? 0) + Math.min(p.endUs, to) - Math.max(p.startUs, from));
    return out;
  };
  const runQueueIn = (r: RequestTimes): Record<string, number> => {
    const [from, to] = window(r);
    return Object.fromEntries(Object.entries(context.runQueue ?? {}).map(([app, samples]) => [app, waitedIn(samples, from, to)]));
  };
  const rewriting = (r: RequestTimes): boolean => {
    const [from, to] = window(r);
    return (context.aofRewrites ?? []).some(([s, e]) => e > from && s < to);
  };
  /** The causes a request met, by name. */
  const causes = (r: RequestTimes, stages: Record<RequestStage, number>): string[] => {
    const met: string[] = [];
    const long = (us: number): boolean => us >= MET_SHARE * stages.total;
    if (pausedIn(r, true).size > 0) met.push('major_gc');
    for (const [app, us] of pausedIn(r, false)) if (long(us)) met.push(`minor_gc ${app}`);
    for (const [app, us] of Object.entries(runQueueIn(r))) if (long(us)) met.push(`run_queue ${app}`);
    if (rewriting(r)) met.push('aof_rewrite');
    if (r.job !== undefined && long(queuedBehind(r.job))) met.push('queued_behind_jobs');
    if (long(stages.wait)) met.push('batch_wait');
    if (long(stages.process)) met.push('process');
    if (long(stages.answer + stages.complete)) met.push('complete_and_answer');
    return met;
  };
  const largest = (stages: Record<RequestStage, number>): RequestStage =>
    REQUEST_STAGES.filter((s) => s !== 'total').reduce((a, b) => (stages[b] > stages[a] ? b : a));
  const summary = (list: typeof followed) =>
    Object.fromEntries(
      REQUEST_STAGES.map((stage) => {
        const values = list.map((f) => f.stages[stage]);
        return [stage, { p50: ms(percentile(values, 0.5)), p90: ms(percentile(values, 0.9)), p99: ms(percentile(values, 0.99)) }];
      }),
    );
  const byTotal = [...followed].sort((a, b) => b.stages.total - a.stages.total);
  const slow = byTotal.slice(0, Math.max(1, Math.ceil(byTotal.length / 50)));
  const count = (list: typeof followed, name: (f: (typeof followed)[number]) => readonly string[]) => {
    const counts = new Map<string, number>();
    for (const f of list) for (const n of new Set(name(f))) counts.set(n, (counts.get(n) ?? 0) + 1);
    return counts;
  };
  const slowCauses = count(slow, (f) => causes(f.request, f.stages));
  const allCauses = count(followed, (f) => causes(f.request, f.stages));
  const share = (n: number, of: number): number => Number((n / Math.max(1, of)).toFixed(3));
  const slowLargest = count(slow, (f) => [largest(f.stages)]);
  const outside = followed.filter((f) => !rewriting(f.request)).map((f) => f.stages.total);
  const windowUs = context.windowUs;
  const windows =
    windowUs === undefined
      ? undefined
      : Array.from({ length: Math.ceil((toUs - fromUs) / windowUs) }, (_, k) => {
          const [from, to] = [fromUs + k * windowUs, fromUs + (k + 1) * windowUs];
          const totals = followed.filter((f) => f.request.receivedUs >= from && f.request.receivedUs < to).map((f) => f.stages.total);
          return {
            from_s: Number(((k * windowUs) / 1e6).toFixed(1)),
            aof_rewrite: (context.aofRewrites ?? []).some(([s, e]) => e > from && s < to),
            requests: totals.length,
            p50_ms: ms(percentile(totals, 0.5)),
            p99_ms: ms(percentile(totals, 0.99)),
          };
        });
  return {
    ...(windows === undefined ? {} : { windows }),
    requests_followed: followed.length,
    request_stage_ms: summary(followed),
    // The requests no AOF rewrite overlapped: what p99 would be without the rewrites.
    outside_aof_rewrites: { requests: outside.length, p99_ms: ms(percentile(outside, 0.99)) },
    slow_requests: {
      count: slow.length,
      from_ms: ms(slow.at(-1)?.stages.total ?? Number.NaN),
      stage_ms: summary(slow),
      queued_behind_jobs_ms: { p50: ms(percentile(slow.map((f) => (f.request.job === undefined ? 0 : queuedBehind(f.request.job))), 0.5)) },
      items_per_job: { p50: percentile(slow.map((f) => f.request.job?.items ?? 0), 0.5), all_p50: percentile(followed.map((f) => f.request.job?.items ?? 0), 0.5) },
      jobs_in_flight_at_add: { p50: percentile(slow.map((f) => f.request.job?.inFlightAtAdd ?? 0), 0.5), all_p50: percentile(followed.map((f) => f.request.job?.inFlightAtAdd ?? 0), 0.5) },
      distinct_jobs: new Set(slow.map((f) => f.request.job?.id)).size,
      largest_stage_share: Object.fromEntries([...slowLargest].sort((a, b) => b[1] - a[1]).map(([stage, n]) => [stage, share(n, slow.length)])),
      // Share of the slow requests that met each, and of all requests: [slow, all].
      causes: Object.fromEntries([...slowCauses].sort((a, b) => b[1] - a[1]).map(([name, n]) => [name, [share(n, slow.length), share(allCauses.get(name) ?? 0, followed.length)]])),
      met_none: share(slow.filter((f) => causes(f.request, f.stages).length === 0).length, slow.length),
      examples: slow.slice(0, 8).map(({ request, stages }) => ({
        ...Object.fromEntries(REQUEST_STAGES.map((s) => [s, ms(stages[s])])),
        queued_behind_jobs: ms(request.job === undefined ? 0 : queuedBehind(request.job)),
        items: request.job?.items,
        in_flight_at_add: request.job?.inFlightAtAdd,
        gc: [...[...pausedIn(request, true)].map(([app, us]) => `${app} major ${ms(us)}`), ...[...pausedIn(request, false)].map(([app, us]) => `${app} minor ${ms(us)}`)],
        run_queue_ms: Object.fromEntries(Object.entries(runQueueIn(request)).map(([app, us]) => [app, ms(us)])),
        aof_rewrite: rewriting(request),
      })),
    },
  };
}
