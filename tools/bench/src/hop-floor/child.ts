// One process of hop-floor-bench: a producer (the gateway's part) or a consumer (the
// ca-service's part) of one path, started by the bench with an IPC channel. A producer, told to
// run, keeps its lanes of jobs going for a bounded time and count and reports each round trip's
// time; a consumer only answers. Both say `ready` once they can, and stop when told or when the
// channel closes.
import { randomUuid, withTimeout } from '@fsm-certs/core';
import { AuditLog, issueJobPayloadSchema, type IssueItem, type IssueJobPayload } from '@fsm-certs/queue';
import { errorMessage } from '../issue/load.js';
import { childEnvSchema, toChildSchema, type FromChild, type RunMessage } from './protocol.js';
import { fillerFor, startConsumer, startProducer, type Producer } from './paths.js';

/** A round trip not answered within this long counts as an error (the bench then fails). */
const ROUND_TRIP_TIMEOUT_MS = 10_000;

const env = childEnvSchema.parse(process.env);

function send(message: FromChild): void {
  process.send?.(message);
}

let names = 0;
/** One request as the gateway queues it: a service name, its DNS SAN, 24h, P-256, with its audit context. */
function item(): IssueItem {
  names += 1;
  const commonName = `hop-${process.pid}-${names}.bench.cluster.local`;
  return {
    requestId: randomUuid(),
    commonName,
    dnsNames: [commonName],
    uris: [],
    ipAddresses: [],
    validityMs: 24 * 3600 * 1000,
    keyAlgorithm: 'ecdsa-p256',
    reason: 'request',
    audit: { id: AuditLog.newId(Date.now()), operation: 'issueCertificate', caller: 'token:bench', clientAddress: '127.0.0.1', requestId: randomUuid() },
  };
}

function payload(items: number): IssueJobPayload {
  return { version: 1, requests: Array.from({ length: items }, item), resultVersion: 2, maxResultVersion: 3 };
}

function answered(value: unknown, items: number): boolean {
  if (typeof value !== 'object' || value === null || !('results' in value)) return false;
  return Array.isArray(value.results) && value.results.length === items;
}

async function run(producer: Producer, message: RunMessage): Promise<FromChild> {
  const latenciesUs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  const start = performance.now();
  const until = start + message.ms;
  await Promise.all(
    Array.from({ length: message.lanes }, async () => {
      while (performance.now() < until && started < message.maxRoundTrips && errors === 0) {
        started += 1;
        const job = payload(message.items);
        const sent = performance.now();
        try {
          const result = await withTimeout(producer.roundTrip(job), ROUND_TRIP_TIMEOUT_MS);
          if (!answered(result, message.items)) throw new Error('the answer does not hold one result per item');
          latenciesUs.push((performance.now() - sent) * 1000);
        } catch (error) {
          errors += 1;
          firstError ??= errorMessage(error);
        }
      }
    }),
  );
  return {
    type: 'ran',
    roundTrips: latenciesUs.length,
    elapsedMs: performance.now() - start,
    latenciesUs: latenciesUs.map((v) => Math.round(v)),
    errors,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

async function main(): Promise<void> {
  const filler = fillerFor(env.HOP_RESULT_BYTES_PER_ITEM);
  let consumerErrors = 0;
  const producer = env.HOP_ROLE === 'producer' ? await startProducer(env.HOP_PATH, env.REDIS_URL) : undefined;
  const stoppable =
    producer ??
    (await startConsumer(env.HOP_PATH, env.REDIS_URL, filler, (error) => {
          consumerErrors += 1;
          if (consumerErrors === 1) console.error(`hop-floor ${env.HOP_PATH} consumer: ${errorMessage(error)}`);
        }));
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await stoppable.close();
    process.exit(0);
  };
  process.on('message', (raw: unknown) => {
    const message = toChildSchema.parse(raw);
    if (message.type === 'stop') {
      void stop();
      return;
    }
    if (producer === undefined) {
      send({ type: 'failed', error: 'only a producer runs load' });
      return;
    }
    void run(producer, message).then(send, (error: unknown) => send({ type: 'failed', error: String(error) }));
  });
  process.once('disconnect', () => void stop());
  // The payload's size, checked against the job contract once so the items are the real thing.
  const sample = issueJobPayloadSchema.parse(payload(1));
  send({ type: 'ready', payloadBytes: JSON.stringify(sample).length });
}

main().catch((error: unknown) => {
  send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
