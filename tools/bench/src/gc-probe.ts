// Loaded into a benchmarked app with NODE_OPTIONS=--import=<tools/bench/dist/gc-probe.js> when
// BENCH_GC=1 (gc-stats.ts): counts the process's garbage collections, their main-thread time, the
// bytes it allocated on the V8 heap and its RSS, and keeps the running totals in
// `$FSM_GC_PROBE_DIR/<pid>.json` so the benchmark can subtract two readings around a round.
// V8's GCProfiler reports the used heap before and after every collection, so what was allocated
// between two collections is `used before this one - used after the previous one`: the sum over
// a round is its allocation, with no sampling.
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';

const dir = process.env['FSM_GC_PROBE_DIR'];

/** Running totals since the probe started; `ms` is main-thread pause time. */
export interface GcTotals {
  readonly pid: number;
  scavenges: number;
  scavengeMs: number;
  /** Mark-compact (full) collections, incremental marking steps included in their time. */
  markCompacts: number;
  markCompactMs: number;
  /** Bytes allocated on the V8 heap (JS objects and strings; Buffers' bytes live outside it). */
  allocatedBytes: number;
  rssBytes: number;
  heapUsedBytes: number;
}

if (dir !== undefined && dir !== '') {
  const totals: GcTotals = { pid: process.pid, scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0, allocatedBytes: 0, rssBytes: 0, heapUsedBytes: 0 };
  const file = path.join(dir, `${process.pid}.json`);
  let profiler = new v8.GCProfiler();
  let usedAfterLast = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  const flush = (): void => {
    const result = profiler.stop();
    profiler = new v8.GCProfiler();
    profiler.start();
    for (const gc of result.statistics) {
      const before = gc.beforeGC.heapStatistics.usedHeapSize;
      totals.allocatedBytes += Math.max(0, before - usedAfterLast);
      usedAfterLast = gc.afterGC.heapStatistics.usedHeapSize;
      if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkCompact') {
        totals.scavenges += 1;
        totals.scavengeMs += gc.cost / 1000;
      } else if (gc.gcType === 'MarkSweepCompact' || gc.gcType === 'IncrementalMarking') {
        if (gc.gcType === 'MarkSweepCompact') totals.markCompacts += 1;
        totals.markCompactMs += gc.cost / 1000;
      }
    }
    const used = v8.getHeapStatistics().used_heap_size;
    totals.allocatedBytes += Math.max(0, used - usedAfterLast);
    usedAfterLast = used;
    totals.heapUsedBytes = used;
    totals.rssBytes = process.memoryUsage.rss();
    // Written off the main thread (libuv's pool): a synchronous write and rename here held the
    // app's event loop ~10 ms each on a loaded machine's shared /tmp. One write at a time; a tick
    // that finds the last one still going skips its write (the next one carries the totals).
    if (writing) return;
    writing = true;
    writeFile(`${file}.tmp`, JSON.stringify(totals))
      .then(() => rename(`${file}.tmp`, file))
      .catch(() => undefined)
      .finally(() => {
        writing = false;
      });
  };
  let writing = false;
  // Often enough that a 3-6 s round's edges cost little; unref'd so the app exits as it would.
  setInterval(flush, 100).unref();
}

// FSM_HEAP_SAMPLE_DIR: also sample where the heap is allocated (collected objects included, so the
// profile is allocation, not what is retained) from FSM_HEAP_SAMPLE_START_MS (default 20 s) after
// start for FSM_HEAP_SAMPLE_MS (default 10 s), into `<dir>/<pid>.heapprofile` (Chrome DevTools).
const sampleDir = process.env['FSM_HEAP_SAMPLE_DIR'];
if (sampleDir !== undefined && sampleDir !== '') {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error === null ? resolve(result) : reject(error))));
  const startMs = Number(process.env['FSM_HEAP_SAMPLE_START_MS'] ?? 20_000);
  const forMs = Number(process.env['FSM_HEAP_SAMPLE_MS'] ?? 10_000);
  setTimeout(() => {
    void (async () => {
      await post('HeapProfiler.enable');
      await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      await new Promise((resolve) => setTimeout(resolve, forMs).unref());
      const result = await post('HeapProfiler.stopSampling');
      const profile = typeof result === 'object' && result !== null && 'profile' in result ? result.profile : undefined;
      await writeFile(path.join(sampleDir, `${process.pid}.heapprofile`), JSON.stringify(profile));
    })();
  }, startMs).unref();
}
