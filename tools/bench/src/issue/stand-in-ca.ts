// A stand-in ca-service for the `queue-hop` scenario of bench:issue: it consumes the real `issue`
// queue and answers every item at once with a record built from one pre-signed leaf (its key
// sealed for the item's name, as the ca-service does), and beats the ca-service heartbeat the
// gateway's /readyz needs. No signing, no inventory writes: what the gateway reaches with it is
// the ceiling of the HTTP -> BullMQ -> HTTP path itself, whatever the CA costs.
// Run as a process: REDIS_URL and FSM_KEY_ENCRYPTION_KEY (base64) in the environment; prints
// `ready` on stdout once it takes jobs, and stops on SIGTERM.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DEFAULT_PREFIX,
  createIssueWorker,
  createRedisConnection,
  parseKek,
  publishHeartbeat,
  sealPrivateKey,
  type CertificateRecord,
  type IssueJobResult,
} from '@fsm-certs/queue';
import { createRootCa, fingerprintSha256, issueLeaf } from '@fsm-certs/x509';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(`stand-in-ca: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const redisUrl = required('REDIS_URL');
const kek = parseKek(required('FSM_KEY_ENCRYPTION_KEY'));
const ca = createRootCa();
const issuerId = fingerprintSha256(ca.certificatePem);
const leaf = issueLeaf(ca.issuer, {
  commonName: 'stand-in.bench.cluster.local',
  dnsNames: [],
  uris: [],
  ipAddresses: [],
  validityMs: 24 * 3600 * 1000,
  keyAlgorithm: 'ecdsa-p256',
});
const keyPem = leaf.privateKeyPem ?? '';

const commands = createRedisConnection(redisUrl, { role: 'client' });
const connection = createRedisConnection(redisUrl, { role: 'worker' });
const heartbeat = publishHeartbeat(commands, { role: 'ca-service', instanceId: `stand-in-${randomUUID()}`, ttlMs: 10_000, prefix: DEFAULT_PREFIX });
const worker = createIssueWorker(
  connection,
  async (job): Promise<IssueJobResult> => ({
    version: 1,
    results: job.data.requests.map((item) => {
      const serialNumber = randomBytes(16).toString('hex');
      const record: CertificateRecord = {
        commonName: item.commonName,
        serialNumber,
        notBefore: leaf.notBefore.toISOString(),
        notAfter: leaf.notAfter.toISOString(),
        renewAt: leaf.notAfter.toISOString(),
        certificatePem: leaf.certificatePem,
        chainPem: [],
        issuingCaPem: ca.certificatePem,
        trustedCasPem: [ca.certificatePem],
        issuerId,
        provider: 'tresor',
        keyAlgorithm: item.keyAlgorithm,
        mode: 'server-key',
        dnsNames: item.dnsNames,
        uris: [],
        ipAddresses: [],
        validityMs: item.validityMs,
        issuedAt: new Date().toISOString(),
        warnings: [],
        encryptedPrivateKey: sealPrivateKey(kek, keyPem, item.commonName, serialNumber),
      };
      return { requestId: item.requestId, ok: true as const, certificate: record };
    }),
  }),
  { concurrency: 4 },
  DEFAULT_PREFIX,
);
await Promise.all([worker.waitUntilReady(), heartbeat.ready]);
console.log('ready');
process.once('SIGTERM', () => {
  void (async () => {
    await worker.close();
    await heartbeat.stop();
    commands.disconnect();
    connection.disconnect();
    process.exit(0);
  })();
});
