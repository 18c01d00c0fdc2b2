// `npm run bench:issue`: the issuer-gateway (full system: gateway -> queue -> ca-service -> Redis)
// against cfssl's `serve`, both issuing ECDSA P-256 certificates with server-generated keys to 16
// concurrent HTTP clients on this machine, plus the queue-hop ceiling (the gateway and BullMQ
// with a stand-in CA that signs nothing). Every target is started once and measured in
// BENCH_ROUNDS interleaved rounds, so a noisy neighbour hits all of them alike; the summary
// compares medians. Each target first runs the same load for BENCH_WARMUP_SECONDS (default 10)
// unmeasured: Node's JIT tiers and heap sizing take ~10 s of this load to settle (the first 5 s
// cost the ca-service about twice the CPU per certificate of the steady state), and a service
// runs for days, so its steady state is what is compared. The apps run from the build output
// (`npm run bench:issue` builds first), as the Docker images do; BENCH_RUN_FROM=source runs them
// through tsx instead. Options: BENCH_SECONDS per round
// (default 6), BENCH_ROUNDS (default 3), BENCH_CLIENTS (default 16), BENCH_QUEUE_HOP=0 to skip
// the ceiling, BENCH_VARIANTS to add fsm-certs stacks with other settings, e.g.
// '{"concurrency-1":{"CA_SERVICE_CONCURRENCY":"1"}}' (name -> environment of its apps).
// With the sqlite3 shell on PATH, cfssl also runs a second time recording every certificate in
// its certificate database (as fsm-certs records its inventory): an extra, equal-durability
// comparison beside the headline ratio (BENCH_CFSSL_DB=0 to skip).
// With OpenBao installed (tools/test-tools/install-openbao.sh), the Vault pair runs too:
// `vault-direct` (16 clients straight at bao's pki/issue) against `fsm-certs-vault` (the system
// with CERT_MANAGER=vault issuing through the same server). BENCH_VAULT=0 skips it, =only runs it alone.
// BENCH_VAULT_BASELINE=<checkout> adds that checkout's system (built) as `fsm-certs-vault-baseline`;
// BENCH_VAULT_VARIANTS (same form as BENCH_VARIANTS) adds `fsm-certs-vault-<name>` stacks.
// BENCH_BASELINE=<checkout> does the same for the Tresor system: `fsm-certs-baseline`.
// BENCH_VAULT_CORES=split (with BENCH_VAULT=only) gives OpenBao the first core to itself and
// everything else the rest, as when Vault runs on its own machine (see cores.ts).
// The summary's headline is `ratio_equal_durability_vs_cfssl_certdb`: fsm-certs against cfssl
// recording every certificate in its database, as fsm-certs records its inventory.
// BENCH_ARRIVALS=open (or =both, the closed loop too) drives every target with random arrivals
// instead (open-loop.ts): a Poisson stream at each offered rate of BENCH_RATES (certificates per
// second, e.g. 300,1500,2700; with =both also `10%`: of fsm-certs' closed-loop throughput in the
// same round), the same stream for every target in a round (BENCH_SEED, default 1, and the round
// and rate pick it); at most BENCH_MAX_OUTSTANDING (default 256, the client's
// sockets) requests unanswered, an arrival beyond that counted as dropped. `summary-open`
// compares each rate's p50/p99 against cfssl+certdb, the baseline and fsm-certs' own defaults.
import { loadavg } from 'node:os';
import { z } from 'zod';
import { cfsslAvailable, sqlite3Available } from './cfssl.js';
import { coreSplit, pinProcess, type CoreSplit } from './cores.js';
import { childrenCpuMillis, cpuPerOp, sampleCpu } from './cpu.js';
import { machineShares, measureWakeupRoundTrip, readIdlePolicy, readMachineCpu } from './host.js';
import { allocatedKbPerCert, allocatedOf, gcStatsEnabled, helperUsPerCert, pauseMsPerThousand, pausesOf, threadsOf } from '../gc-stats.js';
import { runClosedLoop } from './load.js';
import { offeredPerSecond, offeredRateSchema, runOpenLoop } from './open-loop.js';
import { openSummary } from './open-summary.js';
import { summarizeRounds, type RoundResult } from './round-result.js';
import { SCENARIOS, cfsslTarget, fsmTarget, queueHopTarget, type Target } from './targets.js';
import { VAULT_SCENARIOS, baselineStartStack, fsmVaultTarget, startBenchVault, vaultBenchAvailable, vaultDirectTarget } from './vault.js';
import type { BaoServer } from '@fsm-certs/testing';
import { benchEnvNumber } from '../bench-env.js';

const seconds = benchEnvNumber('BENCH_SECONDS', 6);
const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 3));
const clients = benchEnvNumber('BENCH_CLIENTS', 16);
const warmupSeconds = benchEnvNumber('BENCH_WARMUP_SECONDS', 10);
const variantsSchema = z.record(z.string().regex(/^[a-z0-9-]{1,40}$/, 'variant names are lower-case letters, digits and dashes'), z.record(z.string(), z.string()));
const variants = variantsSchema.parse(JSON.parse(process.env['BENCH_VARIANTS'] ?? '{}'));
const withQueueHop = process.env['BENCH_QUEUE_HOP'] !== '0';
const withCfsslDb = process.env['BENCH_CFSSL_DB'] !== '0';
const vaultMode = process.env['BENCH_VAULT'] ?? '1';
const vaultBaseline = process.env['BENCH_VAULT_BASELINE'];
const tresorBaseline = process.env['BENCH_BASELINE'];
// Like BENCH_VARIANTS, for the Vault pair: `fsm-certs-vault-<name>` stacks issuing through the same OpenBao.
const vaultVariants = variantsSchema.parse(JSON.parse(process.env['BENCH_VAULT_VARIANTS'] ?? '{}'));
const vaultCores = z.enum(['shared', 'split']).parse(process.env['BENCH_VAULT_CORES'] ?? 'shared');
if (vaultCores === 'split' && vaultMode !== 'only') throw new Error('BENCH_VAULT_CORES=split pins this process and everything it starts: run it with BENCH_VAULT=only');
const split: CoreSplit | undefined = vaultCores === 'split' ? coreSplit() : undefined;
// Pinned before anything starts, so every process of ours inherits the non-Vault cores.
if (split !== undefined) pinProcess(process.pid, split.rest);
const arrivals = z.enum(['closed', 'open', 'both']).parse(process.env['BENCH_ARRIVALS'] ?? 'closed');
// Certificates per second, or `N%`: N percent of what fsm-certs reached in the same round's closed loop.
const rates = z
  .array(offeredRateSchema)
  .min(arrivals === 'closed' ? 0 : 1, 'BENCH_ARRIVALS=open needs BENCH_RATES, e.g. 300,1500,2700 (certificates per second) or, with =both, 10%,50%,90%')
  .parse((process.env['BENCH_RATES'] ?? '').split(',').map((rate) => rate.trim()).filter((rate) => rate !== ''));
if (arrivals !== 'both' && rates.some((rate) => 'percentOfClosed' in rate)) throw new Error('BENCH_RATES in percent need the closed loop in the same rounds: BENCH_ARRIVALS=both');
const seed = z.coerce.number().int().parse(process.env['BENCH_SEED'] ?? 1);
// The load client's agent has 256 sockets: beyond that it would queue requests unseen.
const maxOutstanding = z.coerce.number().int().positive().max(256).parse(process.env['BENCH_MAX_OUTSTANDING'] ?? 256);

/** What one measurement drives: the closed loop of `clients`, or a Poisson stream at `rate` per second (its BENCH_RATES entry: `label`). */
type Load = { readonly kind: 'closed' } | { readonly kind: 'open'; readonly label: string; readonly rate: number };
/** Results are kept per scenario (closed loop) or per scenario and BENCH_RATES entry. */
const resultKey = (scenario: string, label: string | undefined): string => (label === undefined ? scenario : `${scenario}@${label}`);

/**
 * The load driver counts from 0 in every run; each run gets its own range so no name is ever
 * requested twice (a repeated name would be answered by reuse, without signing).
 */
let runs = 0;
function nextRunOffset(): number {
  runs += 1;
  return runs * 100_000_000;
}

async function measure(target: Target, round: number, spec: Load): Promise<RoundResult> {
  const offset = nextRunOffset();
  let before = sampleCpu(target.pids);
  let machineBefore = readMachineCpu();
  let redisChildrenBefore = childrenCpuMillis(target.pids['redis']);
  let redisRewritesBefore = target.aofRewrites === undefined ? undefined : await target.aofRewrites();
  let threadsBefore = gcStatsEnabled ? threadsOf(target.pids) : {};
  const gcDir = target.gcDir;
  let allocatedBefore = gcDir === undefined ? {} : allocatedOf(gcDir, target.pids);
  let pausesBefore = gcDir === undefined ? {} : pausesOf(gcDir, target.pids);
  const onMeasureStart = (): void => {
    before = sampleCpu(target.pids);
    machineBefore = readMachineCpu();
    redisChildrenBefore = childrenCpuMillis(target.pids['redis']);
    void target.aofRewrites?.().then((n) => (redisRewritesBefore = n));
    if (gcStatsEnabled) threadsBefore = threadsOf(target.pids);
    if (gcDir !== undefined) allocatedBefore = allocatedOf(gcDir, target.pids);
    if (gcDir !== undefined) pausesBefore = pausesOf(gcDir, target.pids);
    void target.batchSince?.();
    void target.redis?.begin();
  };
  const request = (seq: number): Promise<void> => target.request(offset + seq);
  const open =
    spec.kind === 'open'
      ? await runOpenLoop({
          ratePerSecond: spec.rate,
          durationMs: seconds * 1000,
          warmupMs: 1000,
          // Every target meets the same stream in a round; each round and rate its own.
          seed: seed * 1_000_003 + round * 1009 + rates.findIndex((rate) => rate.label === spec.label),
          maxOutstanding,
          onMeasureStart,
          request,
        })
      : undefined;
  const load = open ?? (await runClosedLoop({ clients, durationMs: seconds * 1000, warmupMs: 1000, onMeasureStart, request }));
  // Redis's AOF rewrites in the round: a forked child writes the new base file on a core of its
  // own, CPU that Redis's utime + stime do not hold. It is ours all the same, so it is a process
  // of its own in cpu_us_per_cert (`redis_aof_rewrite`) and counts in the servers' total.
  const redisChildrenAfter = childrenCpuMillis(target.pids['redis']);
  const rewriteUs = redisChildrenAfter === undefined || redisChildrenBefore === undefined || load.requests === 0 ? undefined : Math.round(((redisChildrenAfter - redisChildrenBefore) * 1000) / load.requests);
  // The whole machine over the same slice: what no process used (idle) and what the hypervisor took.
  const machine = machineShares(machineBefore, readMachineCpu());
  const cpu = { ...cpuPerOp(before, sampleCpu(target.pids), load.requests), ...(rewriteUs === undefined ? {} : { redis_aof_rewrite: rewriteUs }) };
  const rewrites = redisRewritesBefore === undefined || target.aofRewrites === undefined ? undefined : (await target.aofRewrites()) - redisRewritesBefore;
  const helpers = gcStatsEnabled ? helperUsPerCert(threadsBefore, threadsOf(target.pids), load.requests) : undefined;
  const allocated = gcDir === undefined ? undefined : allocatedKbPerCert(allocatedBefore, allocatedOf(gcDir, target.pids), load.requests);
  const pauses = gcDir === undefined ? undefined : pauseMsPerThousand(pausesBefore, pausesOf(gcDir, target.pids), load.requests);
  const batch = await target.batchSince?.();
  await target.redis?.end(load.requests);
  console.log(
    JSON.stringify({
      scenario: target.scenario,
      round,
      ...(open === undefined
        ? { clients }
        : { arrivals: 'open', offered_per_s: open.offeredPerSecond, arrived: open.arrivals, dropped: open.dropped, unfinished: open.unfinished, peak_outstanding: open.peakOutstanding, start_lag_p99_ms: Number(open.startLagP99Ms.toFixed(2)) }),
      seconds: Number(load.seconds.toFixed(2)),
      requests: load.requests,
      errors: load.errors,
      throughput: Number(load.throughput.toFixed(1)),
      p50_ms: Number(load.p50Ms.toFixed(2)),
      p99_ms: Number(load.p99Ms.toFixed(2)),
      ...(load.p999Ms === undefined ? {} : { p999_ms: Number(load.p999Ms.toFixed(2)) }),
      cpu_us_per_cert: cpu,
      ...(rewrites === undefined ? {} : { redis_aof_rewrites: rewrites }),
      ...(rewriteUs === undefined ? {} : { redis_aof_rewrite_cpu_us_per_cert: rewriteUs }),
      ...(helpers === undefined ? {} : { off_main_thread_us_per_cert: helpers }),
      ...(allocated === undefined ? {} : { allocated_kb_per_cert: allocated }),
      // Main-thread pauses per 1,000 certificates, [scavenges, mark-compacts] ms: a stall sets an open loop's p99.
      ...(pauses === undefined ? {} : { gc_pause_ms_per_1k: pauses }),
      ...(machine === undefined ? {} : { machine_pct: machine }),
      load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
      ...(batch !== undefined ? { avg_items_per_job: batch } : {}),
      ...(load.firstError !== undefined ? { first_error: load.firstError } : {}),
    }),
  );
  return { load, ...(open === undefined ? {} : { open }), cpu, batch, ...(machine === undefined ? {} : { machine }) };
}

const targets: Target[] = [];
let benchVault: BaoServer | undefined;
const vaultProduct = vaultMode === '0' ? undefined : vaultBenchAvailable();
try {
  if (vaultMode !== 'only') {
    if (cfsslAvailable()) {
      targets.push(await cfsslTarget());
      if (withCfsslDb && sqlite3Available()) targets.push(await cfsslTarget({ certDb: true }));
      else if (withCfsslDb) console.log(JSON.stringify({ scenario: SCENARIOS.cfsslCertDb, skipped: 'sqlite3 not on PATH (apt-get install sqlite3)' }));
    } else {
      console.log(JSON.stringify({ scenario: SCENARIOS.cfssl, skipped: 'cfssl not on PATH (apt-get install golang-cfssl)' }));
    }
    targets.push(await fsmTarget());
    if (tresorBaseline !== undefined && tresorBaseline !== '') targets.push(await fsmTarget({ start: await baselineStartStack(tresorBaseline), scenario: SCENARIOS.baseline }));
    for (const [name, env] of Object.entries(variants)) targets.push(await fsmTarget({ scenario: `fsm-certs-${name}`, env }));
    if (withQueueHop) targets.push(await queueHopTarget());

  }
  if (vaultMode !== '0') {
    if (vaultProduct === undefined) console.log(JSON.stringify({ scenario: VAULT_SCENARIOS.direct, skipped: 'no bao binary: run tools/test-tools/install-openbao.sh' }));
    else {
      benchVault = await startBenchVault();
      if (split !== undefined) {
        if (benchVault.pid === undefined) throw new Error('BENCH_VAULT_CORES=split: the OpenBao server has no pid to pin');
        pinProcess(benchVault.pid, split.vault);
      }
      targets.push(vaultDirectTarget(benchVault));
      targets.push(await fsmVaultTarget(benchVault));
      if (vaultBaseline !== undefined && vaultBaseline !== '') {
        targets.push(await fsmVaultTarget(benchVault, { start: await baselineStartStack(vaultBaseline), scenario: VAULT_SCENARIOS.baseline }));
      }
      for (const [name, env] of Object.entries(vaultVariants)) targets.push(await fsmVaultTarget(benchVault, { env, scenario: `fsm-certs-vault-${name}` }));
    }
  }

  // The host, before any load: one process waking another and back, and how its idle cores sleep.
  const host = { wakeup_round_trip: await measureWakeupRoundTrip(), idle_policy: readIdlePolicy() };
  console.log(JSON.stringify({ scenario: 'host', ...host }));

  for (const target of targets) {
    const offset = nextRunOffset();
    await runClosedLoop({ clients, durationMs: warmupSeconds * 1000, request: (n) => target.request(offset + n) });
  }

  const labels = [...(arrivals === 'open' ? [] : [undefined]), ...(arrivals === 'closed' ? [] : rates.map((rate) => rate.label))];
  const results = new Map<string, RoundResult[]>(targets.flatMap((t) => labels.map((label) => [resultKey(t.scenario, label), []] as const)));
  for (let round = 1; round <= rounds; round += 1) {
    // Every other round runs the targets in reverse: on a shared machine a target's neighbour
    // (what ran just before it, e.g. cfssl's database still writing) colours its round, and
    // alternating the order spreads that over every target alike.
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    // The closed loop first: a rate in percent is of what fsm-certs reached in it this round.
    if (arrivals !== 'open') for (const target of order) results.get(target.scenario)?.push(await measure(target, round, { kind: 'closed' }));
    const capacity = results.get(SCENARIOS.fsm)?.[round - 1]?.load.throughput;
    for (const rate of arrivals === 'closed' ? [] : rates) {
      const spec: Load = { kind: 'open', label: rate.label, rate: offeredPerSecond(rate, capacity) };
      for (const target of order) results.get(resultKey(target.scenario, rate.label))?.push(await measure(target, round, spec));
    }
  }
  // Per certificate over all rounds: Redis's commands and what its AOF took, by command and key class.
  for (const target of targets) if (target.redis !== undefined) console.log(JSON.stringify({ scenario: target.scenario, redis_accounting: target.redis.report(8) }));

  const summary = (scenario: string) => summarizeRounds(results.get(scenario));
  if (arrivals !== 'closed') {
    const compareTo = { cfssl_certdb: SCENARIOS.cfsslCertDb, baseline: SCENARIOS.baseline };
    const variantScenarios = Object.fromEntries(Object.keys(variants).map((name) => [name, `fsm-certs-${name}`]));
    const perRate = openSummary({ results, scenarios: targets.map((t) => t.scenario), rates: rates.map((rate) => rate.label), key: resultKey, ours: SCENARIOS.fsm, compareTo, variants: variantScenarios });
    console.log(JSON.stringify({ scenario: 'summary-open', rounds, seed, max_outstanding: maxOutstanding, load_avg_1m: Number(loadavg()[0]?.toFixed(2)), rates: perRate }));
  }
  const cfssl = summary(SCENARIOS.cfssl);
  const ours = summary(SCENARIOS.fsm);
  const hop = summary(SCENARIOS.queueHop);
  const cfsslDb = summary(SCENARIOS.cfsslCertDb);
  const base = summary(SCENARIOS.baseline);
  const ratioTo =
    (to: { throughput: number } | undefined) =>
    (x: { throughput: number } | undefined): number | null =>
      x === undefined || to === undefined ? null : Number((x.throughput / to.throughput).toFixed(2));
  const ratio = ratioTo(cfssl);
  const variantSummaries = Object.fromEntries(
    Object.keys(variants).map((name) => {
      const medianOf = summary(`fsm-certs-${name}`);
      return [name, medianOf === undefined ? null : { ...medianOf, ratio_vs_cfssl_certdb: ratioTo(cfsslDb)(medianOf), ratio_vs_cfssl: ratio(medianOf) }];
    }),
  );
  const perRoundVsTarget = (scenario: string, against: string): Array<number | null> =>
    (results.get(scenario) ?? []).map((r, i) => ratioTo(results.get(against)?.[i]?.load)(r.load));
  // BENCH_VAULT=only measured none of these, BENCH_ARRIVALS=open no closed loop: no empty summary line.
  if (vaultMode !== 'only' && arrivals !== 'open') console.log(
    JSON.stringify({
      scenario: 'summary',
      rounds,
      clients,
      load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
      // The headline (issue 15): at equal durability, cfssl recording every certificate as we do.
      ratio_equal_durability_vs_cfssl_certdb: ratioTo(cfsslDb)(ours),
      ratio_equal_durability_per_round: perRoundVsTarget(SCENARIOS.fsm, SCENARIOS.cfsslCertDb),
      // Beside it: raw cfssl (no database, the efficiency reference) and the queue-hop ceiling.
      ratio_vs_raw_cfssl: ratio(ours),
      ratio_vs_raw_cfssl_per_round: perRoundVsTarget(SCENARIOS.fsm, SCENARIOS.cfssl),
      queue_hop_ceiling_ratio_vs_cfssl_certdb: ratioTo(cfsslDb)(hop),
      queue_hop_ceiling_ratio_vs_raw_cfssl: ratio(hop),
      p99_ms: { cfssl: cfssl?.p99_ms, cfssl_certdb: cfsslDb?.p99_ms, fsm_certs: ours?.p99_ms, queue_hop_ceiling: hop?.p99_ms },
      server_cpu_us_per_cert: {
        cfssl: cfssl?.cpu_us_per_cert.servers_total,
        cfssl_certdb: cfsslDb?.cpu_us_per_cert.servers_total,
        fsm_certs: ours?.cpu_us_per_cert.servers_total,
        queue_hop_ceiling: hop?.cpu_us_per_cert.servers_total,
      },
      // The cores no process used: a pipeline of processes waiting on each other leaves them idle.
      machine_idle_pct: { cfssl: cfssl?.machine_idle_pct, cfssl_certdb: cfsslDb?.machine_idle_pct, fsm_certs: ours?.machine_idle_pct, queue_hop_ceiling: hop?.machine_idle_pct },
      median: { cfssl, ...(cfsslDb !== undefined ? { cfssl_certdb: cfsslDb } : {}), fsm_certs: ours, queue_hop_ceiling: hop },
      host,
      ...(base !== undefined
        ? { baseline: tresorBaseline, median_baseline: base, ratio_baseline_vs_cfssl_certdb: ratioTo(cfsslDb)(base), ratio_fsm_certs_vs_baseline: ratioTo(base)(ours), ratio_fsm_certs_vs_baseline_per_round: perRoundVsTarget(SCENARIOS.fsm, SCENARIOS.baseline) }
        : {}),
      ...(Object.keys(variants).length > 0 ? { variants: variantSummaries } : {}),
      goal: 'equal durability >= 1.0 (towards 1.5); server CPU per cert <= raw cfssl; p99 <= cfssl_certdb',
    }),
  );
  if (benchVault !== undefined && arrivals !== 'open') {
    const direct = summary(VAULT_SCENARIOS.direct);
    const viaFsm = summary(VAULT_SCENARIOS.fsm);
    const baseline = summary(VAULT_SCENARIOS.baseline);
    const perRoundVs = (scenario: string): Array<number | null> =>
      (results.get(scenario) ?? []).map((r, i) => ratioTo(results.get(VAULT_SCENARIOS.direct)?.[i]?.load)(r.load));
    console.log(
      JSON.stringify({
        scenario: 'summary-vault',
        server: vaultProduct,
        rounds,
        cores: split === undefined ? 'shared' : { openbao: split.vault, load_client_and_fsm_certs: split.rest },
        median: { vault_direct: direct, fsm_certs_vault: viaFsm, ...(baseline !== undefined ? { fsm_certs_vault_baseline: baseline } : {}) },
        ratio_fsm_certs_vault_vs_direct: ratioTo(direct)(viaFsm),
        ratio_per_round: perRoundVs(VAULT_SCENARIOS.fsm),
        ...(baseline !== undefined
          ? {
              baseline: vaultBaseline,
              ratio_baseline_vs_direct: ratioTo(direct)(baseline),
              ratio_baseline_per_round: perRoundVs(VAULT_SCENARIOS.baseline),
              ratio_fsm_certs_vault_vs_baseline: ratioTo(baseline)(viaFsm),
            }
          : {}),
        ...(Object.keys(vaultVariants).length > 0
          ? {
              variants: Object.fromEntries(
                Object.keys(vaultVariants).map((name) => {
                  const medianOf = summary(`fsm-certs-vault-${name}`);
                  return [name, medianOf === undefined ? null : { ...medianOf, ratio_vs_direct: ratioTo(direct)(medianOf), ratio_per_round: perRoundVs(`fsm-certs-vault-${name}`) }];
                }),
              ),
            }
          : {}),
        goal: '>= 0.8',
      }),
    );
  }
} finally {
  for (const target of targets.reverse()) await target.stop().catch((error: unknown) => console.error(`stopping ${target.scenario}:`, error));
  await benchVault?.close();
}
