// A closed-loop load driver: N clients, each sending its next request as soon as the last one
// answered, for a fixed time. Reports throughput and latency percentiles.
export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly firstError?: string;
}

export async function runClosedLoop(options: {
  readonly clients: number;
  readonly durationMs: number;
  readonly warmupMs?: number;
  /** Called when the warm-up ends and measuring starts. */
  readonly onMeasureStart?: () => void;
  /** One request; `seq` is unique across clients so names never repeat. */
  readonly request: (seq: number) => Promise<void>;
}): Promise<LoadResult> {
  let seq = 0;
  if ((options.warmupMs ?? 0) > 0) {
    const warmEnd = Date.now() + (options.warmupMs ?? 0);
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        while (Date.now() < warmEnd) await options.request(seq++).catch(() => undefined);
      }),
    );
  }
  options.onMeasureStart?.();
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const end = started + options.durationMs;
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await options.request(seq++);
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => (latencies.length === 0 ? NaN : (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN));
  return {
    requests: latencies.length,
    errors,
    seconds,
    throughput: latencies.length / seconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    ...(firstError !== undefined ? { firstError } : {}),
  };
}
