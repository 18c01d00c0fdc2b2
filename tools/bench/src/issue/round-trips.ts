// Redis commands per certificate, per process: what each hop of the issue path costs in round
// trips (issue 15). Starts the system (as bench:issue does), watches Redis with MONITOR while
// BENCH_CLIENTS (default 1, then 16) clients issue BENCH_REQUESTS (default 300) certificates, and
// attributes every top-level command to the process whose socket sent it (Linux /proc). Commands
// run inside Lua scripts are not round trips and are not counted. BENCH_BASELINE=<checkout, built>
// measures that checkout's system too, in the same run.
//
//   npm run bench:round-trips
import { Redis } from 'ioredis';
import { startStack, type Stack } from '@fsm-certs/stack';
import { gatewayRequest, withWarmStack } from './targets.js';
import { baselineStartStack } from './vault.js';
import { ownerOfSource } from './monitor-owner.js';
import { benchEnvNumber } from '../bench-env.js';

const requests = benchEnvNumber('BENCH_REQUESTS', 300);
const clientCounts = (process.env['BENCH_CLIENTS'] ?? '1,16').split(',').map(Number);
const baseline = process.env['BENCH_BASELINE'];

async function measure(stack: Stack, clients: number, namePrefix: string): Promise<Record<string, Record<string, number>>> {
  const pids: Record<string, number | undefined> = {};
  for (const app of stack.apps) pids[app.label] = app.pid;
  const counts = new Map<string, Map<string, number>>();
  const owners = new Map<string, string>();
  const watcher = new Redis(stack.redisUrl);
  const monitor = await watcher.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return;
    const owner = ownerOfSource(source, pids, owners);
    const command = (args[0] ?? '?').toLowerCase();
    const perOwner = counts.get(owner) ?? new Map<string, number>();
    perOwner.set(command, (perOwner.get(command) ?? 0) + 1);
    counts.set(owner, perOwner);
  });
  const request = gatewayRequest(stack, namePrefix);
  let seq = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (seq < requests) await request(seq++);
    }),
  );
  monitor.disconnect();
  watcher.disconnect();
  const out: Record<string, Record<string, number>> = {};
  for (const [owner, perCommand] of counts) {
    const row: Record<string, number> = {};
    let total = 0;
    for (const [command, n] of [...perCommand].sort((a, b) => b[1] - a[1])) {
      row[command] = Number((n / requests).toFixed(2));
      total += n;
    }
    out[owner] = { total: Number((total / requests).toFixed(2)), ...row };
  }
  return out;
}

async function run(label: string, start: typeof startStack): Promise<void> {
  await withWarmStack(label, start, 20, async (stack) => {
    for (const clients of clientCounts) {
      const perProcess = await measure(stack, clients, `${label}-${clients}`);
      process.stdout.write(`${JSON.stringify({ scenario: `round-trips-${label}`, clients, requests, commands_per_cert: perProcess })}\n`);
    }
  });
}

await run('fsm-certs', startStack);
if (baseline !== undefined && baseline !== '') await run('baseline', await baselineStartStack(baseline));
