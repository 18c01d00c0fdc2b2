// BENCH_VAULT_CORES=split: OpenBao alone on the first core, the load client and every process of
// ours (gateway, ca-service, rotation-worker, Redis) on the others. In production Vault runs on its
// own machine; on a 2-core bench box the shared-core comparison measures mostly how the two
// stacks divide the same two cores (OpenBao's ~1,100 µs per certificate competes with ours). Split,
// both scenarios get the same Vault - one core - and the ratio answers what issue 12 asks: how
// much of what that Vault can sign does fsm-certs deliver to its clients.
import { availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';

export interface CoreSplit {
  readonly vault: string;
  readonly rest: string;
}

/** The cpu lists of the split, or an error saying why this machine cannot split. */
export function coreSplit(): CoreSplit {
  const cores = availableParallelism();
  if (cores < 2) throw new Error(`BENCH_VAULT_CORES=split needs at least 2 cores; this machine has ${cores}`);
  if (spawnSync('taskset', ['--version'], { encoding: 'utf8' }).status !== 0) {
    throw new Error('BENCH_VAULT_CORES=split needs taskset (util-linux) on PATH');
  }
  return { vault: '0', rest: cores === 2 ? '1' : `1-${cores - 1}` };
}

/** Pins every thread of `pid` to `cpus`; children started afterwards inherit it. */
export function pinProcess(pid: number, cpus: string): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed: ${result.stderr.trim()}`);
}
