// CPU time of processes from /proc (Linux): lets the benchmark say where the work went
// (gateway, ca-service, Redis, the load client) per certificate issued.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** utime + stime of a process in milliseconds, or undefined where /proc is not readable. */
export function cpuMillis(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export function sampleCpu(pids: Readonly<Record<string, number | undefined>>): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMillis(pid)]));
}

/**
 * cutime + cstime of a process in milliseconds: the CPU of its children it has waited for. For
 * Redis that is its AOF rewrites (a forked child writes the new base file), which its own
 * utime + stime do not hold.
 */
export function childrenCpuMillis(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Microseconds of CPU per operation for each process between two samples. */
export function cpuPerOp(
  before: Readonly<Record<string, number | undefined>>,
  after: Readonly<Record<string, number | undefined>>,
  ops: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, end] of Object.entries(after)) {
    const start = before[name];
    if (end === undefined || start === undefined || ops === 0) continue;
    out[name] = Math.round(((end - start) * 1000) / ops);
  }
  return out;
}
