// Fixed-time throughput measurement on the main thread. Each scenario runs for a bounded time
// (and optionally a bounded count, for slow operations such as RSA key generation).

export interface ScenarioResult {
  readonly scenario: string;
  readonly ops_per_sec: number;
  readonly ops: number;
  readonly duration_ms: number;
  readonly us_per_op: number;
  readonly [extra: string]: string | number | boolean;
}

export interface MeasureOptions {
  /** How long to measure; default 2000 ms. */
  readonly durationMs?: number;
  /** Stop early after this many operations (slow scenarios). */
  readonly maxOps?: number;
  /** Untimed warm-up (JIT, caches); default 200 ms. */
  readonly warmupMs?: number;
  /** Injectable clock in milliseconds; default performance.now. */
  readonly now?: () => number;
}

function result(scenario: string, ops: number, elapsedMs: number): ScenarioResult {
  const seconds = elapsedMs / 1000;
  return {
    scenario,
    ops_per_sec: seconds > 0 ? Math.round((ops / seconds) * 10) / 10 : 0,
    ops,
    duration_ms: Math.round(elapsedMs),
    us_per_op: ops > 0 ? Math.round((elapsedMs * 1000) / ops) : 0,
  };
}

export function measureSync(scenario: string, op: (i: number) => unknown, options: MeasureOptions = {}): ScenarioResult {
  const now = options.now ?? (() => performance.now());
  const durationMs = options.durationMs ?? 2000;
  const maxOps = options.maxOps ?? Number.POSITIVE_INFINITY;
  const warmupEnd = now() + (options.warmupMs ?? 200);
  for (let i = 0; now() < warmupEnd && i < maxOps; i++) op(i);
  const start = now();
  const end = start + durationMs;
  let ops = 0;
  // Check the clock every few ops only when ops are very cheap; here one check per op is < 1%.
  while (ops < maxOps && now() < end) op(ops++);
  return result(scenario, ops, now() - start);
}

export async function measureAsync(scenario: string, op: (i: number) => Promise<unknown>, options: MeasureOptions = {}): Promise<ScenarioResult> {
  const now = options.now ?? (() => performance.now());
  const durationMs = options.durationMs ?? 2000;
  const maxOps = options.maxOps ?? Number.POSITIVE_INFINITY;
  const warmupEnd = now() + (options.warmupMs ?? 200);
  for (let i = 0; now() < warmupEnd && i < maxOps; i++) await op(i);
  const start = now();
  const end = start + durationMs;
  let ops = 0;
  while (ops < maxOps && now() < end) await op(ops++);
  return result(scenario, ops, now() - start);
}

/**
 * Keeps `lanes` loops of `step` going side by side until `ms` have passed (a lane finishes the
 * step it is in); returns the sum of what the steps returned (the items each one did).
 */
export async function driveLanes(lanes: number, ms: number, step: () => Promise<number>): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < until) {
        // Not `done += await step()`: that reads `done` before the await, so lanes would
        // overwrite each other's counts.
        const did = await step();
        done += did;
      }
    }),
  );
  return done;
}

export interface InterleavedScenario {
  readonly scenario: string;
  readonly op: (i: number) => unknown;
}

/**
 * Runs scenarios in alternating short slices until each has had `durationMs`, so a burst of
 * load from other processes hits all of them alike and their ratio stays meaningful.
 */
export function measureInterleaved(
  scenarios: readonly InterleavedScenario[],
  options: MeasureOptions & { readonly sliceMs?: number } = {},
): ScenarioResult[] {
  const now = options.now ?? (() => performance.now());
  const durationMs = options.durationMs ?? 2000;
  const sliceMs = Math.max(1, Math.min(options.sliceMs ?? 50, durationMs));
  for (const { op } of scenarios) {
    const warmupEnd = now() + (options.warmupMs ?? 200);
    for (let i = 0; now() < warmupEnd; i++) op(i);
  }
  const ops = scenarios.map(() => 0);
  const elapsed = scenarios.map(() => 0);
  while (elapsed.some((e) => e < durationMs)) {
    scenarios.forEach(({ op }, index) => {
      if ((elapsed[index] ?? 0) >= durationMs) return;
      const start = now();
      const end = start + sliceMs;
      let n = ops[index] ?? 0;
      while (now() < end) op(n++);
      ops[index] = n;
      elapsed[index] = (elapsed[index] ?? 0) + (now() - start);
    });
  }
  return scenarios.map(({ scenario }, index) => result(scenario, ops[index] ?? 0, elapsed[index] ?? 0));
}

export const TARGET_RATIO_VS_FLOOR = 0.6;
export const TARGET_RATIO_VS_PECULIAR = 30;

export interface Summary {
  readonly scenario: 'summary';
  readonly ratio_vs_floor: number;
  readonly ratio_vs_peculiar: number;
  readonly targets_met: boolean;
}

/** The targets: ours >= 0.6 x the crypto floor and >= 30 x @peculiar/x509, same run. */
export function summarize(ours: number, floor: number, peculiar: number): Summary {
  const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 1000) / 1000 : 0);
  const ratioVsFloor = ratio(ours, floor);
  const ratioVsPeculiar = ratio(ours, peculiar);
  return {
    scenario: 'summary',
    ratio_vs_floor: ratioVsFloor,
    ratio_vs_peculiar: ratioVsPeculiar,
    targets_met: ratioVsFloor >= TARGET_RATIO_VS_FLOOR && ratioVsPeculiar >= TARGET_RATIO_VS_PECULIAR,
  };
}

/** The median of the values (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? NaN) + upper) / 2;
}

/**
 * The nearest-rank percentile of ascending values: the smallest value with at least the share `p`
 * (0 < p <= 1) of the values at or below it. NaN for no values. Every bench's p50 / p90 / p99.
 */
export function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

/** nearestRank of values in any order (sorts a copy). */
export function percentile(values: readonly number[], p: number): number {
  return nearestRank([...values].sort((a, b) => a - b), p);
}
