// What the machine itself did and costs, beside the processes' own CPU: the share of the cores
// left idle in a round (a pipeline of processes that wait for each other leaves cores idle that
// cfssl's goroutines keep busy), the share stolen by the hypervisor, and what one wake-up of
// another process costs on this host (a hop between two processes over loopback TCP and back).
// fsm-certs hands every request across four processes, so a host whose idle cores are slow to
// wake taxes it per hop where cfssl, one process, pays little; these figures let a run say which
// kind of host it ran on.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { nearestRank } from '../measure.js';

/** The machine-wide CPU counters of /proc/stat's first line, in clock ticks. */
export interface MachineCpu {
  readonly busy: number;
  readonly idle: number;
  readonly steal: number;
}

/** Parses the `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal (guest time is inside user). */
export function parseMachineCpu(procStat: string): MachineCpu | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const fields = [user, nice, system, idle, iowait, irq, softirq];
  if (fields.some((v) => v === undefined || !Number.isFinite(v))) return undefined;
  const [u = 0, n = 0, s = 0, i = 0, w = 0, q = 0, sq = 0] = fields;
  return { busy: u + n + s + q + sq, idle: i + w, steal: Number.isFinite(steal) ? (steal ?? 0) : 0 };
}

/** This machine's counters now, or undefined where /proc/stat is not readable. */
export function readMachineCpu(): MachineCpu | undefined {
  try {
    return parseMachineCpu(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

export interface MachineShares {
  readonly busy_pct: number;
  readonly idle_pct: number;
  readonly steal_pct: number;
}

/** Shares of all cores' time between two readings, in percent to one decimal. */
export function machineShares(before: MachineCpu | undefined, after: MachineCpu | undefined): MachineShares | undefined {
  if (before === undefined || after === undefined) return undefined;
  const busy = after.busy - before.busy;
  const idle = after.idle - before.idle;
  const steal = after.steal - before.steal;
  const all = busy + idle + steal;
  if (all <= 0) return undefined;
  const pct = (v: number): number => Number(((100 * v) / all).toFixed(1));
  return { busy_pct: pct(busy), idle_pct: pct(idle), steal_pct: pct(steal) };
}

/** How the kernel idles a core here, where it says: the cpuidle driver and, for KVM guests, halt polling. */
export interface IdlePolicy {
  readonly cpuidle_driver?: string;
  /** haltpoll's guest_halt_poll_ns: how long an idle guest core polls before it halts (0: never). */
  readonly guest_halt_poll_ns?: number;
}

export function readIdlePolicy(read: (path: string) => string = (path) => readFileSync(path, 'utf8')): IdlePolicy {
  const attempt = (path: string): string | undefined => {
    try {
      return read(path).trim();
    } catch {
      return undefined;
    }
  };
  const driver = attempt('/sys/devices/system/cpu/cpuidle/current_driver');
  const poll = attempt('/sys/module/haltpoll/parameters/guest_halt_poll_ns');
  return {
    ...(driver === undefined || driver === '' ? {} : { cpuidle_driver: driver }),
    ...(poll === undefined || !/^\d+$/.test(poll) ? {} : { guest_halt_poll_ns: Number(poll) }),
  };
}

export interface WakeupRoundTrip {
  readonly round_trips: number;
  readonly p10_us: number;
  readonly p50_us: number;
  readonly p90_us: number;
}

// The echoing process: a loopback TCP server that writes back what it reads, as Redis answers a command.
const ECHO_CHILD = `
const net = require('node:net');
const server = net.createServer((c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); });
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * One byte to another process and back, `roundTrips` times, one at a time: each round trip is two
 * wake-ups of a process blocked in epoll, the cost a request pays per hop between our processes.
 */
export async function measureWakeupRoundTrip(roundTrips = 2000): Promise<WakeupRoundTrip> {
  const child = spawn(process.execPath, ['-e', ECHO_CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  let socket: Socket | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the echo process exited (${code}) before listening`)));
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.includes('\n')) resolve(Number(text.trim()));
      });
    });
    const s = connect(port, '127.0.0.1');
    socket = s;
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    const micros: number[] = [];
    const one = Buffer.from('x');
    for (let i = 0; i < roundTrips; i += 1) {
      const start = process.hrtime.bigint();
      const echoed = new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.write(one);
      await echoed;
      micros.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    micros.sort((a, b) => a - b);
    const at = (p: number): number => Number(nearestRank(micros, p).toFixed(1));
    return { round_trips: roundTrips, p10_us: at(0.1), p50_us: at(0.5), p90_us: at(0.9) };
  } finally {
    socket?.destroy();
    child.stdin.end();
    child.kill();
  }
}
