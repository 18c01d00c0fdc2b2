// The ids minted per item, request and job on the issue path: libs/core's randomUuid against
// node's crypto.randomUUID (what the gateway used before), interleaved rounds of 1,000,000 ids
// each in one process. Prints per id the CPU ns and the bytes allocated on the V8 heap.
//   npx tsx --conditions=development tools/bench/src/uuid-bench.ts
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { randomUuid } from '@fsm-certs/core';
import { heapAllocationMeter } from './heap-meter.js';
import { benchEnvNumber } from './bench-env.js';

const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 6));
const idsPerRound = 1_000_000;
const ways: ReadonlyArray<readonly [string, () => string]> = [
  ['randomUuid', randomUuid],
  ['crypto.randomUUID', randomUUID],
];
// Kept alive a while, as a request's ids are, so the work is not optimised away.
const kept: string[] = new Array<string>(1024);

for (let round = 1; round <= rounds + 1; round += 1) {
  const line: Record<string, unknown> = { round: round - 1, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) };
  for (const [name, mint] of round % 2 === 0 ? [...ways].reverse() : ways) {
    const allocated = heapAllocationMeter();
    const cpu = process.cpuUsage();
    for (let i = 0; i < idsPerRound; i += 1) kept[i & 1023] = mint();
    const used = process.cpuUsage(cpu);
    line[name] = { ns_per_id: Math.round(((used.user + used.system) * 1000) / idsPerRound), heap_bytes_per_id: Math.round(allocated() / idsPerRound) };
  }
  // Round 0 warms the JIT up and is not printed.
  if (round > 1) console.log(JSON.stringify(line));
}
