// Bytes allocated on this process's V8 heap from now until the returned function is called, for
// microbenchmarks in one process: what gc-probe.ts counts in an app (the used heap before each
// collection minus after the one before, plus the growth since the last), collected objects
// included, with no sampling.
import v8 from 'node:v8';

export function heapAllocationMeter(): () => number {
  const profiler = new v8.GCProfiler();
  const usedAtStart = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  return () => {
    const { statistics } = profiler.stop();
    let allocated = 0;
    let usedAfterLast = usedAtStart;
    for (const gc of statistics) {
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - usedAfterLast);
      usedAfterLast = gc.afterGC.heapStatistics.usedHeapSize;
    }
    return allocated + Math.max(0, v8.getHeapStatistics().used_heap_size - usedAfterLast);
  };
}
