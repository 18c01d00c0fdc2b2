// Three per-certificate steps of the issue path, this checkout's build against another's
// (BENCH_BASELINE=<a built checkout>; without it this checkout against itself, an A/A), in
// interleaved rounds in one process (the order flips every round). Per step and round it prints
// the CPU µs and the V8 heap bytes allocated per certificate:
//   - audit-id: the gateway's audit record id per issue request (AuditLog.newId), made flat as
//     writing it into the job's JSON does;
//   - read-and-open: the gateway's per-certificate read of a stored binary record (decodeRecord)
//     and the opening of its sealed key for the answer (openPrivateKey of the record's text);
//   - commit-args: the ca-service's commit of a 16-write batch up to the Redis call
//     (IssueBatchStore.commit against a client that answers at once: each record's check and
//     encoding, its header, its announcement, its audit record), per write.
//   BENCH_BASELINE=<a built checkout> npx tsx --conditions=development tools/bench/src/per-cert-steps-bench.ts
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import type { Redis } from 'ioredis';
import { createRootCa, fingerprintSha256, issueLeaf } from '@fsm-certs/x509';
import type * as Queue from '@fsm-certs/queue';
import { DAY_MS, leafRecord } from './bench-record.js';
import { benchEnvNumber } from './bench-env.js';
import { heapAllocationMeter } from './heap-meter.js';

type QueueLib = typeof Queue;
const rounds = Math.max(1, benchEnvNumber('BENCH_ROUNDS', 6));
const perRound = Math.max(100, benchEnvNumber('BENCH_OPS', 40_000));
const BATCH = 16;

const here = path.dirname(fileURLToPath(import.meta.url));
const thisTree = path.resolve(here, '../../..');
const baselineTree = process.env['BENCH_BASELINE']?.trim() ? path.resolve(process.env['BENCH_BASELINE']) : thisTree;

async function load(tree: string): Promise<QueueLib> {
  return (await import(pathToFileURL(path.join(tree, 'libs/queue/dist/index.js')).href)) as QueueLib;
}

const root = createRootCa();
const issuerId = fingerprintSha256(root.certificatePem);

interface Steps {
  readonly auditId: () => number;
  readonly readAndOpen: () => number;
  readonly commit: () => Promise<number>;
}

/** A client whose EVALSHA answers every commit at once with every write applied. */
function answeringClient(): Redis {
  const client = {
    evalsha: (_sha: string, numKeys: number, ...rest: unknown[]) => {
      const writes = Number(rest[numKeys + 2]);
      return Promise.resolve(Array.from({ length: writes }, () => 1));
    },
  };
  return client as unknown as Redis;
}

function stepsOf(lib: QueueLib): Steps {
  const kek = lib.generateKek().kek;
  const records = Array.from({ length: BATCH }, (_, i) => {
    const commonName = `svc-${i}.bookstore.svc.cluster.local`;
    const leaf = issueLeaf(root.issuer, { commonName, dnsNames: [commonName], validityMs: DAY_MS, keyAsDerOnly: true });
    const sealed = lib.sealPrivateKeyDer(kek, leaf.privateKeyDer ?? Buffer.alloc(0), commonName, leaf.serialNumber);
    const record = leafRecord(leaf, { commonName, caPem: root.certificatePem, issuerId, encryptedPrivateKey: sealed.text, issuedAt: new Date() });
    return { record, hints: { certificateDer: leaf.certificateDer, sealedKey: sealed.bytes } };
  });
  const encoded = records.map(({ record, hints }) => lib.encodeRecord(record, 'binary', hints));
  const pems = { issuingCaPem: root.certificatePem, trustedCasPem: [root.certificatePem] };
  const open = (record: Queue.CertificateRecord): string | undefined =>
    record.encryptedPrivateKey === undefined ? undefined : lib.openPrivateKey(kek, record.encryptedPrivateKey, record.commonName, record.serialNumber);
  let n = 0;
  const store = new lib.IssueBatchStore(answeringClient(), { prefix: '{bench}' });
  const writes: Queue.StoreWrite[] = records.map(({ record, hints }, i) => ({
    kind: 'store',
    record,
    expectSerial: null,
    requestIds: [`req-${i}`],
    event: { version: 1, kind: 'issued', at: new Date().toISOString(), commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter },
    hints,
    audit: { id: lib.AuditLog.newId(Date.now()), operation: 'issueCertificate', caller: 'bookstore', clientAddress: '127.0.0.1', requestId: `req-${i}` },
  }));
  return {
    auditId: () => JSON.stringify(lib.AuditLog.newId(Date.now())).length,
    readAndOpen: () => {
      const i = n++ % BATCH;
      const e = encoded[i];
      const record = e === undefined ? undefined : lib.decodeRecord(e.record.commonName, lib.fieldsOf([e.value, null, e.record.serialNumber, e.ca.digest]), () => pems);
      return record === undefined ? 0 : (open(record)?.length ?? 0);
    },
    commit: async () => (await store.commit(writes)).length,
  };
}

type Measured = { us_per_cert: number; bytes_per_cert: number };

async function measure(run: () => number | Promise<number>, ops: number, certsPerOp: number): Promise<Measured> {
  const allocated = heapAllocationMeter();
  const cpu = process.cpuUsage();
  let sink = 0;
  for (let i = 0; i < ops; i += 1) {
    const out = run();
    sink += typeof out === 'number' ? out : await out;
  }
  const used = process.cpuUsage(cpu);
  if (sink < 0) console.log(sink);
  const certs = ops * certsPerOp;
  return { us_per_cert: Number(((used.user + used.system) / certs).toFixed(3)), bytes_per_cert: Math.round(allocated() / certs) };
}

async function main(): Promise<void> {
  const stacks: Array<[string, Steps]> = [
    ['this', stepsOf(await load(thisTree))],
    [baselineTree === thisTree ? 'this-again' : 'baseline', stepsOf(await load(baselineTree))],
  ];
  console.log(JSON.stringify({ this: thisTree, baseline: baselineTree, rounds, ops_per_round: perRound }));
  for (let round = 0; round <= rounds; round += 1) {
    const line: Record<string, unknown> = { round, load_avg_1m: Number(loadavg()[0]?.toFixed(2)) };
    for (const [name, steps] of round % 2 === 0 ? stacks : [...stacks].reverse()) {
      line[name] = {
        audit_id: await measure(steps.auditId, perRound, 1),
        read_and_open: await measure(steps.readAndOpen, perRound, 1),
        commit_args: await measure(steps.commit, Math.ceil(perRound / BATCH), BATCH),
      };
    }
    // Round 0 warms the JIT up and is not printed.
    if (round > 0) console.log(JSON.stringify(line));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 0; // benchmarks report, they do not gate
});
