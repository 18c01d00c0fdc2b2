// `npm run bench:x509`: one JSON line per scenario, then a summary with the issue's ratios.
// It reports; it is not a test, so it always exits 0. BENCH_SECONDS changes the per-scenario time.
import { createECDH, randomBytes, sign } from 'node:crypto';
import { createCsr, createRootCa, generateKeyPair, issueLeaf, parseCsr } from '@fsm-certs/x509';
import { measureAsync, measureInterleaved, measureSync, summarize, type ScenarioResult } from './measure.js';
import { peculiarIssuer, peculiarServerKeyLeaf } from './peculiar-baseline.js';
import { benchEnvNumber } from './bench-env.js';

const DAY_MS = 86_400_000;
const durationMs = Math.min(Math.max(benchEnvNumber('BENCH_SECONDS', 2), 0.2), 30) * 1000;

function report(result: ScenarioResult | object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const p256Root = createRootCa({ keyAlgorithm: 'ecdsa-p256' });
  const rsaRoot = createRootCa({ keyAlgorithm: 'rsa-2048' });
  const common = { node: process.version, duration_target_ms: durationMs };

  // A TBS-sized message: the floor is key generation plus one signature of that size.
  const tbsLike = randomBytes(420);
  // The floor and our fast path run interleaved in 50 ms slices: their ratio is the target, and
  // interleaving keeps load from other processes from favouring either side.
  const [floor, ours] = measureInterleaved([
    {
      scenario: 'crypto-floor-p256',
      op: () => {
        createECDH('prime256v1').generateKeys();
        return sign('sha256', tbsLike, p256Root.issuer.privateKey);
      },
    },
    {
      scenario: 'p256-server-key',
      op: (i) => issueLeaf(p256Root.issuer, { commonName: `svc-${i}.bookstore.cluster.local`, validityMs: DAY_MS }),
    },
  ], { durationMs });
  if (floor === undefined || ours === undefined) throw new Error('interleaved measurement returned no results');
  report({ ...floor, interleaved_with: 'p256-server-key', ...common });
  report({ ...ours, interleaved_with: 'crypto-floor-p256', ...common });

  const p256Csr = createCsr({ commonName: 'bookbuyer.bookbuyer.cluster.local', keyPair: generateKeyPair('ecdsa-p256') });
  report({
    ...measureSync('p256-csr', () => {
      const csr = parseCsr(p256Csr);
      return issueLeaf(p256Root.issuer, { commonName: 'bookbuyer.bookbuyer.cluster.local', publicKey: csr.publicKey, validityMs: DAY_MS });
    }, { durationMs }),
    issuer_key: 'ecdsa-p256',
    ...common,
  });

  const rsaCsr = createCsr({ commonName: 'bookbuyer.bookbuyer.cluster.local', keyPair: generateKeyPair('rsa-2048') });
  report({
    ...measureSync('rsa2048-csr', () => {
      const csr = parseCsr(rsaCsr);
      return issueLeaf(rsaRoot.issuer, { commonName: 'bookbuyer.bookbuyer.cluster.local', publicKey: csr.publicKey, validityMs: DAY_MS });
    }, { durationMs }),
    issuer_key: 'rsa-2048',
    ...common,
  });

  // RSA key generation takes 100+ ms and varies a lot; bound the count so the bench stays short.
  report({
    ...measureSync('rsa2048-server-key', (i) =>
      issueLeaf(rsaRoot.issuer, { commonName: `svc-${i}.bookstore.cluster.local`, validityMs: DAY_MS, keyAlgorithm: 'rsa-2048' }),
    { durationMs, maxOps: 20, warmupMs: 0 }),
    issuer_key: 'rsa-2048',
    ...common,
  });

  const baselineIssuer = await peculiarIssuer(p256Root.certificatePem, p256Root.privateKeyPem);
  const peculiar = await measureAsync('peculiar-p256-server-key', (i) =>
    peculiarServerKeyLeaf(baselineIssuer, `svc-${i}.bookstore.cluster.local`, DAY_MS), { durationMs });
  report({ ...peculiar, library: '@peculiar/x509', ...common });

  report(summarize(ours.ops_per_sec, floor.ops_per_sec, peculiar.ops_per_sec));
}

main().catch((error: unknown) => {
  // A bench that cannot run still reports, and still exits 0: it is a measurement, not a gate.
  report({ scenario: 'error', message: error instanceof Error ? error.message : String(error) });
});
