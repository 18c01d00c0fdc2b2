// The load drivers' shared parts, and the closed-loop driver: N clients, each sending its next
// request as soon as the last one answered, for a fixed time. The open-loop driver (requests at
// random arrival times, whatever the answers) is open-loop.ts. Both report a LoadResult.
import { nearestRank } from '../measure.js';

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Only with at least 1,000 answers: below that the slowest answer is all it could say. */
  readonly p999Ms?: number;
  readonly firstError?: string;
}


/** A run's result from the latencies of its answered requests (sorted here) and its failures. */
export function loadResult(run: { readonly latencies: number[]; readonly errors: number; readonly seconds: number; readonly firstError: string | undefined }): LoadResult {
  const latencies = run.latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors: run.errors,
    seconds: run.seconds,
    throughput: latencies.length / run.seconds,
    p50Ms: nearestRank(latencies, 0.5),
    p99Ms: nearestRank(latencies, 0.99),
    ...(latencies.length >= 1000 ? { p999Ms: nearestRank(latencies, 0.999) } : {}),
    ...(run.firstError !== undefined ? { firstError: run.firstError } : {}),
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
          firstError ??= errorMessage(error);
        }
      }
    }),
  );
  return loadResult({ latencies, errors, seconds: (performance.now() - started) / 1000, firstError });
}
