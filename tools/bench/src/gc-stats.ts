// BENCH_GC=1: what the V8 runtime costs each app per certificate. Two views, both read around a
// round like the CPU times: gc-probe.ts inside the app (collections, their main-thread time,
// bytes allocated, RSS) and /proc/<pid>/task/* outside it (CPU of the main thread against all
// other threads: V8's GC and compiler helpers, and libuv's pool). The probe rides in NODE_OPTIONS
// (`--import`), appended to whatever NODE_OPTIONS the system's environment already sets.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GcTotals } from './gc-probe.js';

export const gcStatsEnabled = process.env['BENCH_GC'] === '1';

/** The environment that loads the probe into every app of a system, added to `env`. */
export function withGcProbe(env: Readonly<Record<string, string>>): { env: Record<string, string>; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-gc-'));
  const probe = fileURLToPath(new URL('../dist/gc-probe.js', import.meta.url));
  const nodeOptions = [env['NODE_OPTIONS'], `--import=${probe}`].filter((o) => o !== undefined && o !== '').join(' ');
  return { env: { ...env, NODE_OPTIONS: nodeOptions, FSM_GC_PROBE_DIR: dir }, dir };
}

export function removeGcProbeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** CPU milliseconds of a process's main thread and of all its other threads, from /proc. */
export function threadMillis(pid: number): { main: number; helpers: number } {
  let main = 0;
  let helpers = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended between the listing and the read
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    if (Number(tid) === pid) main += ms;
    else helpers += ms;
  }
  return { main, helpers };
}

function probeTotals(dir: string, pid: number): GcTotals | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, `${pid}.json`), 'utf8')) as GcTotals;
  } catch {
    return undefined;
  }
}

export interface GcSample {
  readonly threads: { main: number; helpers: number };
  readonly totals: GcTotals | undefined;
}

export function sampleGc(dir: string, pid: number): GcSample {
  return { threads: threadMillis(pid), totals: probeTotals(dir, pid) };
}

/** Per 1,000 certificates between two samples, plus the RSS and heap at the end. */
export function gcPerThousand(before: GcSample, after: GcSample, certs: number): Record<string, number> {
  const k = 1000 / certs;
  const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
  const out: Record<string, number> = {
    main_thread_us_per_cert: Math.round(((after.threads.main - before.threads.main) * 1000) / certs),
    other_threads_us_per_cert: Math.round(((after.threads.helpers - before.threads.helpers) * 1000) / certs),
  };
  const a = after.totals;
  const b = before.totals;
  if (a !== undefined && b !== undefined) {
    out['scavenges_per_1k'] = round((a.scavenges - b.scavenges) * k);
    out['scavenge_ms_per_1k'] = round((a.scavengeMs - b.scavengeMs) * k);
    out['mark_compacts_per_1k'] = round((a.markCompacts - b.markCompacts) * k, 2);
    out['mark_compact_ms_per_1k'] = round((a.markCompactMs - b.markCompactMs) * k);
    out['allocated_kb_per_cert'] = round((a.allocatedBytes - b.allocatedBytes) / certs / 1024);
    out['rss_mb'] = round(a.rssBytes / 1048576);
    out['heap_used_mb'] = round(a.heapUsedBytes / 1048576);
  }
  return out;
}

/**
 * bench:issue with BENCH_GC=1: each process's CPU per certificate off its main thread (V8's GC and
 * compiler helpers, libuv's pool) between two samples of threadsOf().
 */
export function threadsOf(pids: Readonly<Record<string, number | undefined>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (pid === undefined || name === 'client') continue;
    try {
      out[name] = threadMillis(pid).helpers;
    } catch {
      // a process that is gone (or not ours to read) has no figure
    }
  }
  return out;
}

/** bench:issue with BENCH_GC=1: each probed process's V8 heap bytes allocated so far (gc-probe.ts totals). */
export function allocatedOf(dir: string, pids: Readonly<Record<string, number | undefined>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const totals = pid === undefined || name === 'client' ? undefined : probeTotals(dir, pid);
    if (totals !== undefined) out[name] = totals.allocatedBytes;
  }
  return out;
}

/** bench:issue with BENCH_GC=1: each probed process's main-thread pause so far, `[scavenges, mark-compacts]` in ms (gc-probe.ts totals). */
export function pausesOf(dir: string, pids: Readonly<Record<string, number | undefined>>): Record<string, readonly [number, number]> {
  const out: Record<string, readonly [number, number]> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const totals = pid === undefined || name === 'client' ? undefined : probeTotals(dir, pid);
    if (totals !== undefined) out[name] = [totals.scavengeMs, totals.markCompactMs];
  }
  return out;
}

/** Pause ms per 1,000 certificates between two pausesOf() readings: `[scavenges, mark-compacts]` per process. */
export function pauseMsPerThousand(before: Record<string, readonly [number, number]>, after: Record<string, readonly [number, number]>, certs: number): Record<string, readonly [number, number]> {
  return Object.fromEntries(
    Object.entries(after).flatMap(([name, [scavenge, markCompact]]) => {
      const from = before[name];
      if (from === undefined || certs === 0) return [];
      const perK = (ms: number): number => Number(((ms * 1000) / certs).toFixed(1));
      return [[name, [perK(scavenge - from[0]), perK(markCompact - from[1])] as const]];
    }),
  );
}

/** KB allocated per certificate between two allocatedOf() readings (the probe writes its totals every 100 ms). */
export function allocatedKbPerCert(before: Record<string, number>, after: Record<string, number>, certs: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).flatMap(([name, bytes]) => (before[name] === undefined || certs === 0 ? [] : [[name, Number(((bytes - (before[name] ?? 0)) / certs / 1024).toFixed(1))]])),
  );
}

export function helperUsPerCert(before: Record<string, number>, after: Record<string, number>, certs: number): Record<string, number> {
  return Object.fromEntries(Object.entries(after).flatMap(([name, ms]) => (before[name] === undefined || certs === 0 ? [] : [[name, Math.round(((ms - (before[name] ?? 0)) * 1000) / certs)]])));
}
