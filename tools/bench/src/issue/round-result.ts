// One target's measured rounds in bench:issue, and their medians: shared by the closed-loop
// summary (issue-bench.ts) and the open-loop one (open-summary.ts).
import { median } from '../measure.js';
import type { MachineShares } from './host.js';
import type { LoadResult } from './load.js';
import type { OpenLoopResult } from './open-loop.js';

export interface RoundResult {
  readonly load: LoadResult;
  /** The open-loop figures, when the round drove a Poisson stream. */
  readonly open?: OpenLoopResult;
  readonly cpu: Record<string, number>;
  /** Average items per BullMQ job in the round (gateway targets). */
  readonly batch: number | undefined;
  /** The whole machine's busy, idle and stolen shares over the round, where /proc/stat is readable. */
  readonly machine?: MachineShares;
}

export interface RoundsSummary {
  readonly throughput: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly cpu_us_per_cert: Record<string, number>;
  /** The median share of the cores left idle in the rounds, in percent. */
  readonly machine_idle_pct?: number;
}

function medianCpu(results: readonly RoundResult[]): Record<string, number> {
  const names = new Set(results.flatMap((r) => Object.keys(r.cpu)));
  return Object.fromEntries([...names].map((name) => [name, Math.round(median(results.map((r) => r.cpu[name] ?? NaN).filter(Number.isFinite)))]));
}

/** Every process but the load client: what the target itself spends per certificate. */
export function serversTotal(cpu: Readonly<Record<string, number>>): number {
  return Object.entries(cpu).reduce((sum, [name, us]) => (name === 'client' || !Number.isFinite(us) ? sum : sum + us), 0);
}

/** Medians over the rounds: throughput, p50, p99 and CPU per certificate per process (with `servers_total`). */
export function summarizeRounds(rs: readonly RoundResult[] | undefined): RoundsSummary | undefined {
  if (rs === undefined || rs.length === 0) return undefined;
  const cpu = medianCpu(rs);
  const idle = rs.flatMap((r) => (r.machine === undefined ? [] : [r.machine.idle_pct]));
  return {
    throughput: Number(median(rs.map((r) => r.load.throughput)).toFixed(1)),
    p50_ms: Number(median(rs.map((r) => r.load.p50Ms)).toFixed(2)),
    p99_ms: Number(median(rs.map((r) => r.load.p99Ms)).toFixed(2)),
    cpu_us_per_cert: { ...cpu, servers_total: serversTotal(cpu) },
    ...(idle.length === 0 ? {} : { machine_idle_pct: Number(median(idle).toFixed(1)) }),
  };
}
