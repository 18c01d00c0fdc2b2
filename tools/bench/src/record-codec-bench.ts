// `npx tsx --conditions=development tools/bench/src/record-codec-bench.ts`: what validating every
// stored record and announcement on the ca-service's write path (IssueBatchStore.commit) costs
// per certificate, against the bare JSON.stringify it replaced, interleaved in one run. One JSON
// line per scenario. It reports; it is not a test, so it always exits 0. BENCH_SECONDS sets the time.
import { createRootCa, issueLeaf } from '@fsm-certs/x509';
import { encodeEvent, encodeRecord, type CertificateRecord, type IssuedEvent } from '@fsm-certs/queue';
import { measureInterleaved } from './measure.js';

const durationMs = Math.min(Math.max(Number(process.env['BENCH_SECONDS'] ?? '2'), 0.2), 30) * 1000;
const DAY_MS = 86_400_000;

const root = createRootCa();
const leaf = issueLeaf(root.issuer, { commonName: 'bookstore-v2.bookstore.cluster.local', dnsNames: ['bookstore-v2.bookstore.svc'], validityMs: DAY_MS });
const now = new Date();
const record: CertificateRecord = {
  commonName: 'bookstore-v2.bookstore.cluster.local',
  serialNumber: leaf.serialNumber,
  notBefore: leaf.notBefore.toISOString(),
  notAfter: leaf.notAfter.toISOString(),
  renewAt: new Date(leaf.notBefore.getTime() + (2 * DAY_MS) / 3).toISOString(),
  certificatePem: leaf.certificatePem,
  chainPem: [],
  issuingCaPem: root.certificatePem,
  trustedCasPem: [root.certificatePem],
  issuerId: 'ab'.repeat(32),
  provider: 'tresor',
  keyAlgorithm: 'ecdsa-p256',
  mode: 'server-key',
  dnsNames: ['bookstore-v2.bookstore.cluster.local', 'bookstore-v2.bookstore.svc'],
  uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v2'],
  ipAddresses: [],
  validityMs: DAY_MS,
  encryptedPrivateKey: `v1.${'A'.repeat(16)}.${'B'.repeat(22)}.${'C'.repeat(320)}`,
  issuedAt: now.toISOString(),
  warnings: [],
};
const event: IssuedEvent = { version: 1, kind: 'issued', at: now.toISOString(), commonName: record.commonName, serialNumber: record.serialNumber, notAfter: record.notAfter };

const [bare, validated] = measureInterleaved(
  [
    {
      scenario: 'commit-encode-bare',
      op: () => {
        const { previousSerialNumber: _derived, ...stored } = record;
        return JSON.stringify(stored).length + JSON.stringify(event).length;
      },
    },
    { scenario: 'commit-encode-validated', op: () => encodeRecord(record).json.length + encodeEvent(event).length },
  ],
  { durationMs },
);
for (const result of [bare, validated]) process.stdout.write(`${JSON.stringify({ ...result, node: process.version })}\n`);
if (bare !== undefined && validated !== undefined) {
  process.stdout.write(`${JSON.stringify({ summary: 'validation cost per certificate', extra_us_per_op: Number((validated.us_per_op - bare.us_per_op).toFixed(2)) })}\n`);
}
