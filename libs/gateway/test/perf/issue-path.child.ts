// Processes of issue-path.bench.ts: `gateway` (the real startIssuerGateway) or `worker` (a
// stand-in ca-service answering each item with a pre-signed record, key sealed for its name).
import { randomBytes } from 'node:crypto';
import { createIssueWorker, createRedisConnection, parseKek, sealPrivateKey, type CertificateRecord, type IssueJobResult } from '@fsm-certs/queue';
import { createRootCa, fingerprintSha256, issueLeaf } from '@fsm-certs/x509';
import { sha256Hex, silentLogger, startIssuerGateway } from '../../src/index.js';

const env = (name: string): string => process.env[name] ?? '';
const kek = parseKek(env('KEK'));
const prefix = '{fsm-certs}';
const send = (m: string): void => void process.send?.(m);

if (process.argv[2] === 'gateway') {
  const gw = await startIssuerGateway({
    redisUrl: env('REDIS_URL'),
    prefix,
    host: '127.0.0.1',
    port: 0,
    tls: false,
    namespace: 'fsm-system',
    kek,
    logger: silentLogger,
    app: {
      tokens: [{ name: 'admin', sha256: sha256Hex(env('TOKEN')), scopes: ['admin'], names: [] }],
      rateLimitPerSec: 1_000_000,
      bodyLimit: '64kb',
      issueTimeoutMs: 30_000,
      batchWindowMs: Number(process.env['BATCH_WINDOW_MS'] ?? 2),
      batchMax: 64,
      defaultValidityMs: 24 * 3600 * 1000,
      trustDomain: 'cluster.local',
    },
  });
  send(gw.url);
  process.once('SIGTERM', () => void gw.close().then(() => process.exit(0)));
} else {
  const ca = createRootCa();
  const leaf = issueLeaf(ca.issuer, { commonName: 'x.bench.cluster.local', dnsNames: [], uris: [], ipAddresses: [], validityMs: 24 * 3600 * 1000, keyAlgorithm: 'ecdsa-p256' });
  const connection = createRedisConnection(env('REDIS_URL'), { role: 'worker' });
  const issuerId = fingerprintSha256(ca.certificatePem);
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
          dnsNames: [item.commonName],
          uris: [],
          ipAddresses: [],
          validityMs: item.validityMs,
          issuedAt: new Date().toISOString(),
          warnings: [],
          encryptedPrivateKey: sealPrivateKey(kek, leaf.privateKeyPem ?? '', item.commonName, serialNumber),
        };
        return { requestId: item.requestId, ok: true as const, certificate: record };
      }),
    }),
    { concurrency: 8 },
    prefix,
  );
  await worker.waitUntilReady();
  send('ready');
  process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}
