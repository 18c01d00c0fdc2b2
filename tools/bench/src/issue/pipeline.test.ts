// pipeline.ts follows each job through the probes' files by its id: the stages, how full the
// pipeline was, and how long the ca-service processed nothing while a job waited for it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineReport } from './pipeline.js';
import type { TimelineEvent, TimelineFile } from './timeline-probe.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function write(files: readonly TimelineFile[]): string {
  dir = mkdtempSync(path.join(tmpdir(), 'pipeline-test-'));
  for (const file of files) writeFileSync(path.join(dir, `${file.pid}.json`), JSON.stringify(file));
  return dir;
}

/** One job of `items` requests arriving from `t0` µs: fill 1 ms, add 0.5, queue `queueUs`, process 2, complete 0.5, answer 0.2. */
function job(id: string, t0: number, items: number, queueUs: number): { gateway: TimelineEvent[]; ca: TimelineEvent[] } {
  const added = t0 + 1_500;
  const start = added + queueUs;
  return {
    gateway: [
      ...Array.from({ length: items }, (_, i): TimelineEvent => [t0 + i, 'req', 8080, 'POST /v1/certificates']),
      [t0 + 1_000, 'm', 0, `queue.add> ${id} ${items}`],
      [added, 'm', 0, `queue.add< ${id} ${items}`],
      // The stream's first entry for the job is its `added` event, not its answer.
      [added + 10, 'm', 0, `finishedJobs.dispatch> ${id} added`],
      [start + 2_700, 'm', 0, `finishedJobs.dispatch> ${id} completed`],
    ],
    ca: [
      [start, 'm', 0, `worker.processor> ${id}`],
      [start + 2_000, 'm', 0, `worker.processor< ${id}`],
      [start + 2_000, 'm', 0, `job.moveToCompleted> ${id}`],
      [start + 2_500, 'm', 0, `job.moveToCompleted< ${id}`],
    ],
  };
}

describe('pipelineReport', () => {
  it('times each job by its id, and counts the jobs in flight when one was added', () => {
    // Job b is added while a is in flight and waits 1 ms for a processor while none runs.
    const a = job('a', 1_000_000, 8, 0);
    const b = job('b', 1_002_000, 6, 1_000);
    const sorted = (events: TimelineEvent[]): TimelineEvent[] => events.sort((x, y) => x[0] - y[0]);
    const report = pipelineReport(
      write([
        { pid: 1, app: 'issuer-gateway', events: sorted([...a.gateway, ...b.gateway]) },
        { pid: 2, app: 'ca-service', events: sorted([...a.ca, ...b.ca]) },
      ]),
      1_000_000,
      1_010_000,
    );
    expect(report.jobs).toBe(2);
    expect(report.items_histogram).toEqual({ 6: 1, 8: 1 });
    expect(report.in_flight_at_add_histogram).toEqual({ 0: 1, 1: 1 });
    expect(report.stage_ms['fill']?.p50).toBe(1);
    expect(report.stage_ms['process']?.p50).toBe(2);
    expect(report.stage_ms['answer']?.p50).toBe(0.2);
    // a's total: fill 1 + add 0.5 + process 2 + complete 0.5 + answer 0.2; b's adds its 1 ms in the queue.
    expect(report.slowest_jobs.examples[0]).toMatchObject({ items: 6, queue: 1, total: 5.2 });
    // a processes 1.5-3.5 ms, b waits 3.5-4.5 ms with no processor running: 1 ms of the 10.
    expect(report.job_queued_while_ca_idle_share).toBe(0.1);
    expect(report.ca_processing_share).toBe(0.4);
  });

  it('follows each request through its job and names what the slowest met (an AOF rewrite) beside the share of all requests that met it', () => {
    // 100 jobs of one request each, 10 ms apart, on connections of their own; each takes 5 ms
    // from request to answer, except the two jobs an AOF rewrite overlapped: 40 ms in the processor.
    const gateway: TimelineEvent[] = [];
    const ca: TimelineEvent[] = [];
    const t0 = 1_000_000;
    for (let i = 0; i < 100; i++) {
      const at = t0 + i * 10_000;
      const slow = i === 50 || i === 51;
      const end = at + (slow ? 40_000 : 3_000);
      gateway.push(
        [at, 'req', i + 1, 'POST /v1/certificates'],
        [at + 500, 'm', 0, `queue.add> j${i} 1`],
        [at + 800, 'm', 0, `queue.add< j${i} 1`],
        [end + 1_000, 'm', 0, `finishedJobs.dispatch> j${i} completed`],
        [end + 2_000, 'w', i + 1, 'HTTP/1.1 201 Created'],
        [end + 2_010, 'w', i + 1, 'HTTP/1.1 201 Created'],
      );
      ca.push([at + 1_000, 'm', 0, `worker.processor> j${i}`], [end, 'm', 0, `worker.processor< j${i}`], [end, 'm', 0, `job.moveToCompleted> j${i}`], [end + 500, 'm', 0, `job.moveToCompleted< j${i}`]);
    }
    const sorted = (events: TimelineEvent[]): TimelineEvent[] => events.sort((x, y) => x[0] - y[0]);
    const report = pipelineReport(
      write([
        { pid: 1, app: 'issuer-gateway', events: sorted(gateway) },
        { pid: 2, app: 'ca-service', events: sorted(ca) },
      ]),
      t0,
      t0 + 1_000_000,
      { aofRewrites: [[t0 + 511_000, t0 + 512_000]], runQueue: { redis: [[t0, 0], [t0 + 2_000_000, 1_000]] } },
    );
    expect(report.requests_followed).toBe(100);
    expect(report.request_stage_ms['total']).toEqual({ p50: 5, p90: 5, p99: 42 });
    // The slowest 2%: both overlapped the rewrite, which 2 of the 100 requests did.
    expect(report.slow_requests.count).toBe(2);
    expect(report.slow_requests.stage_ms['process']?.p50).toBe(39);
    expect(report.slow_requests.causes['aof_rewrite']).toEqual([1, 0.02]);
    expect(report.slow_requests.causes['process']).toEqual([1, 1]);
    expect(report.slow_requests.causes['queued_behind_jobs']).toBeUndefined();
    expect(report.slow_requests.examples[0]).toMatchObject({ total: 42, aof_rewrite: true, items: 1, in_flight_at_add: 0 });
    expect(report.outside_aof_rewrites).toEqual({ requests: 98, p99_ms: 5 });
  });
});
