// `npx tsx --conditions=development tools/bench/src/record-codec-bench.ts`: what turning a
// certificate record into what Redis stores, and back, costs per certificate: the encode on the
// ca-service's write path (IssueBatchStore.commit: schema check + format) and the decode on every
// read (gateway, rotation, check: format + schema check), for each record format, interleaved in
// one run so load from other processes hits all alike. With BENCH_BASELINE=<a built checkout>
// (`npx tsc -b tsconfig.json` there) the same record also goes through that checkout's codec
// (its default format), e.g. main's, in the same run. The bare JSON.stringify of the full record
// is the floor of a text format. One JSON line per scenario, then a summary. It reports; it is not
// a test, so it always exits 0. BENCH_SECONDS sets the time per scenario.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRootCa, fingerprintSha256, issueLeaf } from '@fsm-certs/x509';
import { decodeRecord, encodeRecord, fieldsOf, generateKek, sealPrivateKey, type CertificateRecord, type RecordFormat } from '@fsm-certs/queue';
import { measureInterleaved, type InterleavedScenario } from './measure.js';
import { DAY_MS, leafRecord } from './bench-record.js';
import { benchEnvNumber } from './bench-env.js';

const durationMs = Math.min(Math.max(benchEnvNumber('BENCH_SECONDS', 2), 0.2), 30) * 1000;

const root = createRootCa();
const commonName = 'bookstore-v2.bookstore.cluster.local';
const leaf = issueLeaf(root.issuer, { commonName, dnsNames: [commonName], validityMs: DAY_MS });
const kek = generateKek().kek;
const now = new Date();
/** A record as the ca-service stores one for a Tresor P-256 server-key leaf. */
const record: CertificateRecord = leafRecord(leaf, {
  commonName,
  caPem: root.certificatePem,
  issuerId: fingerprintSha256(root.certificatePem),
  encryptedPrivateKey: sealPrivateKey(kek, leaf.privateKeyPem ?? '', commonName, leaf.serialNumber, { der: true }),
  issuedAt: now,
});
const pems = { issuingCaPem: record.issuingCaPem, trustedCasPem: record.trustedCasPem };

/** The codec functions a checkout exports, as far as this bench uses them. */
interface Codec {
  encodeRecord(record: CertificateRecord): { readonly ca: { readonly digest: string } } & Record<string, unknown>;
  fieldsOf(reply: unknown): unknown;
  decodeRecord(commonName: string, fields: never, caOf: (digest: string) => typeof pems | undefined): unknown;
}

async function baselineCodec(): Promise<{ codec: Codec; dir: string } | undefined> {
  const dir = process.env['BENCH_BASELINE'];
  if (dir === undefined || dir.trim() === '') return undefined;
  const file = path.resolve(dir, 'libs/queue/dist/inventory/record-codec.js');
  return { codec: (await import(pathToFileURL(file).href)) as Codec, dir: path.resolve(dir) };
}

function scenariosOf(label: string, encode: () => { value: unknown; digest: string }, decode: (value: unknown, digest: string) => unknown): InterleavedScenario[] {
  const stored = encode();
  const bytes = typeof stored.value === 'string' ? Buffer.byteLength(stored.value) : Buffer.isBuffer(stored.value) ? stored.value.length : 0;
  // What a reader gets from Redis: bytes (every reader of this version reads the record as such).
  const asRead = typeof stored.value === 'string' ? Buffer.from(stored.value) : stored.value;
  if (decode(asRead, stored.digest) === undefined) throw new Error(`${label}: the stored record does not decode`);
  process.stdout.write(`${JSON.stringify({ format: label, stored_bytes: bytes })}\n`);
  return [
    { scenario: `encode-${label}`, op: () => encode() },
    { scenario: `decode-${label}`, op: () => decode(asRead, stored.digest) },
  ];
}

function ownScenarios(format: RecordFormat): InterleavedScenario[] {
  return scenariosOf(
    format,
    () => {
      const e = encodeRecord(record, format);
      return { value: e.value, digest: e.ca.digest };
    },
    (value, digest) => decodeRecord(commonName, fieldsOf([value, null, record.serialNumber, digest]), (d) => (d === digest ? pems : undefined)),
  );
}

async function main(): Promise<void> {
  const baseline = await baselineCodec();
  const scenarios: InterleavedScenario[] = [
    {
      scenario: 'encode-bare-json',
      op: () => {
        const { previousSerialNumber: _derived, ...stored } = record;
        return JSON.stringify(stored).length;
      },
    },
    ...ownScenarios('binary'),
    ...ownScenarios('compact'),
    ...ownScenarios('full'),
  ];
  if (baseline !== undefined) {
    const { codec } = baseline;
    scenarios.push(
      ...scenariosOf(
        'baseline',
        () => {
          const e = codec.encodeRecord(record);
          // Checkouts before format 3 call the stored value `json`.
          return { value: e['value'] ?? e['json'], digest: e.ca.digest };
        },
        // Checkouts before format 3 read the record as text.
        (value, digest) => codec.decodeRecord(commonName, codec.fieldsOf([Buffer.isBuffer(value) && value[0] !== 3 ? value.toString('utf8') : value, null, record.serialNumber, digest]) as never, (d) => (d === digest ? pems : undefined)),
      ),
    );
  }
  const results = measureInterleaved(scenarios, { durationMs });
  for (const result of results) process.stdout.write(`${JSON.stringify({ ...result, node: process.version })}\n`);
  const us = (name: string): number | undefined => {
    const r = results.find((x) => x.scenario === name);
    return r === undefined || r.ops_per_sec === 0 ? undefined : Number((1e6 / r.ops_per_sec).toFixed(2));
  };
  const reference = baseline === undefined ? 'compact' : 'baseline';
  process.stdout.write(
    `${JSON.stringify({
      summary: `binary against ${reference === 'baseline' ? `${baseline?.dir ?? ''} (its default format)` : 'compact (format 2, the previous default)'}`,
      encode_us: { binary: us('encode-binary'), [reference]: us(`encode-${reference}`) },
      decode_us: { binary: us('decode-binary'), [reference]: us(`decode-${reference}`) },
    })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 0; // benchmarks report, they do not gate
});
