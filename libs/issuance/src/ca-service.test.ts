// The ca-service against a real Redis and Tresor over a file store: what a caller of the issue
// queue observes. openssl is the independent judge of every certificate.
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditLog,
  Inventory,
  liveInstances,
  openPrivateKey,
  rotateJobId,
  trustBundleDigest,
  type IssueItem,
  type IssueJobResult,
  type IssueQueue,
  type RotateQueue,
  type CertificateRecord,
} from '@fsm-certs/queue';
import { createCsr, generateKeyPair, exportPrivateKeyPem, inspectCertificate } from '@fsm-certs/x509';
import { opensslKeyMatches, opensslVerify, opensslX509 } from '@fsm-certs/testing';
import type { CaService } from './ca-service.js';
import {
  PREFIX,
  carryingRecords,
  item,
  readAllEvents,
  startCaServiceFixture,
  startTresorCaService,
  type CaServiceFixture,
  type TestEnv,
} from './test-support.test-helpers.js';

describe('ca-service issuing from the issue queue', () => {
  let env: TestEnv;
  let service: CaService;
  let queue: IssueQueue;
  let rotateQueue: RotateQueue;
  let events: QueueEvents;
  let fixture: CaServiceFixture | undefined;
  let inventory: Inventory;
  let rootPem: string;

  beforeAll(async () => {
    fixture = await startCaServiceFixture('ca-test-1', { concurrency: 3 });
    ({ env, service, queue, rotateQueue, events } = fixture);
    inventory = new Inventory(env.connect(), { prefix: PREFIX });
    const bundle = await inventory.getTrustBundle();
    if (bundle === undefined) throw new Error('the ca-service did not publish a trust bundle');
    rootPem = bundle.trustedCasPem[0] ?? '';
  });

  afterAll(async () => {
    await fixture?.close();
  });

  async function run(requests: IssueItem[]): Promise<IssueJobResult> {
    const job = await queue.add('issue-batch', { version: 1, requests });
    return job.waitUntilFinished(events, 30_000);
  }

  function okRecord(result: IssueJobResult, requestId: string): CertificateRecord {
    // Payloads here do not ask for compact results, so every record comes whole (v1).
    if (result.version !== 1) throw new Error(`expected a v1 result, got v${result.version}`);
    const found = result.results.find((r) => r.requestId === requestId);
    if (found === undefined || !found.ok) throw new Error(`request ${requestId} failed: ${JSON.stringify(found)}`);
    return found.certificate;
  }

  it('publishes the trust bundle with the root that signs, announced once', async () => {
    const bundle = await inventory.getTrustBundle();
    expect(bundle?.trustedCasPem).toHaveLength(1);
    expect(inspectCertificate(rootPem).isCA).toBe(true);
    const announcements = (await readAllEvents(env.connect())).filter((e) => e.kind === 'trust-bundle-changed');
    expect(announcements).toHaveLength(1);
  });

  it('records the trust bundle change in the audit trail once, with the provider and the root that signs', async () => {
    const audit = new AuditLog(env.connect(), { prefix: PREFIX, retentionMs: 3600_000 });
    const { items } = await audit.query({ outcome: 'trust-bundle-changed', limit: 10 });
    expect(items).toHaveLength(1);
    const bundle = await inventory.getTrustBundle();
    expect(items[0]).toMatchObject({ operation: 'trust-bundle-changed', provider: 'tresor', caller: null, names: [], notAfter: bundle?.rootNotAfter });
    expect(items[0]?.issuerId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('issues server-key and CSR certificates that openssl verifies against the trust bundle', async () => {
    const workload = generateKeyPair('rsa-2048');
    const csrPem = createCsr({ commonName: 'ignored-subject', keyPair: workload });
    const serverKey = item('bookstore-v1.bookstore.cluster.local', { dnsNames: ['bookstore.local'] });
    const csr = item('bookstore-v2.bookstore.cluster.local', { csrPem, keyAlgorithm: 'ecdsa-p256' });
    const result = await run([serverKey, csr]);

    const a = okRecord(result, serverKey.requestId);
    const b = okRecord(result, csr.requestId);
    for (const record of [a, b]) {
      const verdict = opensslVerify(record.certificatePem, record.trustedCasPem, { chainPem: record.chainPem });
      expect(verdict.output).toContain(': OK');
      expect(record.trustedCasPem).toEqual([rootPem]);
    }
    // Server key: sealed in the record, opens under the KEK, and belongs to the certificate.
    expect(a.mode).toBe('server-key');
    expect(a.encryptedPrivateKey).toMatch(/^v2\./);
    expect(JSON.stringify(a)).not.toContain('PRIVATE KEY');
    const keyPem = openPrivateKey(env.kek, a.encryptedPrivateKey ?? '', a.commonName, a.serialNumber);
    expect(opensslKeyMatches(a.certificatePem, keyPem)).toBe(true);
    expect(inspectCertificate(a.certificatePem).dnsNames).toEqual(expect.arrayContaining(['bookstore-v1.bookstore.cluster.local', 'bookstore.local']));
    // CSR: no key anywhere, the certificate carries the workload's key and the requested identity.
    expect(b.mode).toBe('csr');
    expect(b.encryptedPrivateKey).toBeUndefined();
    expect(b.keyAlgorithm).toBe('rsa-2048');
    expect(opensslKeyMatches(b.certificatePem, exportPrivateKeyPem(workload.privateKey))).toBe(true);
    expect(inspectCertificate(b.certificatePem).commonName).toBe('bookstore-v2.bookstore.cluster.local');
    // The records list exactly the DNS SANs each certificate carries, the common name included.
    for (const record of [a, b]) {
      const carried = [...opensslX509(record.certificatePem, ['-ext', 'subjectAltName']).matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]);
      expect(record.dnsNames).toEqual(carried);
    }
    expect(a.dnsNames).toEqual(['bookstore-v1.bookstore.cluster.local', 'bookstore.local']);
    expect(b.dnsNames).toEqual(['bookstore-v2.bookstore.cluster.local']);
    // The inventory holds exactly what the caller got (stored from the leaf's DER and the sealed
    // key's bytes the ca-service had in hand), and each got one `issued` announcement.
    expect(await inventory.get(a.commonName)).toEqual(a);
    expect(await inventory.get(b.commonName)).toEqual(b);
    const issued = (await readAllEvents(env.connect())).filter((e) => e.kind === 'issued');
    expect(issued.filter((e) => e.kind === 'issued' && e.serialNumber === a.serialNumber)).toHaveLength(1);
    expect(issued.filter((e) => e.kind === 'issued' && e.serialNumber === b.serialNumber)).toHaveLength(1);
  });

  it('answers a retried job with the same request ids with the same certificates, issuing nothing new', async () => {
    const requests = [item('retry-a.cluster.local'), item('retry-b.cluster.local', { keyAlgorithm: 'rsa-2048' })];
    const job = await queue.add('issue-batch', { version: 1, requests });
    const first = await job.waitUntilFinished(events, 30_000);
    const eventsBefore = (await readAllEvents(env.connect())).length;
    // A new job carrying the same request ids (a producer's retry)...
    const again = await run(requests);
    // ...and BullMQ re-running the very same job.
    await job.retry('completed');
    const rerun: IssueJobResult = await job.waitUntilFinished(events, 30_000);
    for (const answer of [again, rerun]) {
      for (const r of requests) {
        expect(okRecord(answer, r.requestId).serialNumber).toBe(okRecord(first, r.requestId).serialNumber);
        expect(okRecord(answer, r.requestId).encryptedPrivateKey).toBe(okRecord(first, r.requestId).encryptedPrivateKey);
      }
    }
    expect((await readAllEvents(env.connect())).length).toBe(eventsBefore);
  });

  it('answers a producer that asks for v2 with records referencing the published trust bundle by digest', async () => {
    const requests = [item('compact-a.cluster.local'), item('compact-b.cluster.local')];
    const job = await queue.add('issue-batch', { version: 1, requests, resultVersion: 2 });
    const result: IssueJobResult = await job.waitUntilFinished(events, 30_000);
    if (result.version !== 2) throw new Error(`expected a v2 result, got v${result.version}`);
    const bundle = await inventory.getTrustBundle();
    if (bundle === undefined) throw new Error('no trust bundle');
    const digest = trustBundleDigest(bundle.issuingCaPem, bundle.trustedCasPem);
    for (const r of result.results) {
      if (!r.ok) throw new Error(`item failed: ${JSON.stringify(r)}`);
      expect(r.trustBundleDigest).toBe(digest);
      expect(r.certificate.issuingCaPem).toBeUndefined();
      expect(r.certificate.trustedCasPem).toBeUndefined();
      // Filled in from the bundle, the record is exactly what the inventory stores.
      const whole = { ...r.certificate, issuingCaPem: bundle.issuingCaPem, trustedCasPem: bundle.trustedCasPem };
      expect(whole).toEqual(await inventory.get(r.certificate.commonName));
      expect(opensslVerify(whole.certificatePem, rootPem).ok).toBe(true);
    }
  });

  it('fails a payload that breaks its schema at once as unrecoverable, naming the field', async () => {
    const bad = { version: 1, requests: [{ ...item('schema.cluster.local'), validityMs: -5 }] };
    const job = await queue.add('issue-batch', bad as unknown as { version: 1; requests: IssueItem[] });
    await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(/requests\.0\.validityMs/);
    const failed = await queue.getJob(String(job.id));
    expect(failed?.attemptsMade).toBe(1); // attempts is 5: not retried
    expect(failed?.failedReason).toMatch(/will not be retried/);
  });

  it('fails only the bad item of a batch, with its status and code', async () => {
    const good = item('good.cluster.local');
    const tooShort = item('short.cluster.local', { validityMs: 60_000 });
    const badName = item('bad_name..cluster.local');
    const result = await run([good, tooShort, badName]);
    expect(okRecord(result, good.requestId).commonName).toBe('good.cluster.local');
    for (const bad of [tooShort, badName]) {
      const r = result.results.find((x) => x.requestId === bad.requestId);
      expect(r?.ok).toBe(false);
      if (r?.ok === false) {
        expect(r.error.httpStatus).toBe(400);
        expect(r.error.retryable).toBe(false);
        expect(r.error.message.length).toBeGreaterThan(10);
      }
    }
    expect(await inventory.get('short.cluster.local')).toBeUndefined();
  });

  it('returns the current certificate for a repeated request and rotates when the parameters change', async () => {
    const name = 'reuse.cluster.local';
    const firstReq = item(name);
    const first = okRecord(await run([firstReq]), firstReq.requestId);
    const sameReq = item(name); // new request id, same parameters
    expect(okRecord(await run([sameReq]), sameReq.requestId).serialNumber).toBe(first.serialNumber);
    const widerReq = item(name, { dnsNames: ['extra.cluster.local'] });
    const wider = okRecord(await run([widerReq]), widerReq.requestId);
    expect(wider.serialNumber).not.toBe(first.serialNumber);
    expect(wider.previousSerialNumber).toBe(first.serialNumber);
    const mine = (await readAllEvents(env.connect())).filter((e) => 'commonName' in e && e.commonName === name);
    expect(mine.map((e) => e.kind)).toEqual(['issued', 'rotated']);
  });

  it('does not rotate twice: a scheduled rotation of a serial that moved on returns the current cert', async () => {
    const name = 'no-double.cluster.local';
    const req = item(name);
    const first = okRecord(await run([req]), req.requestId);
    const rotate = (expectSerial: string): IssueItem => item(name, { reason: 'rotate-scheduled', expectSerial });
    const r1 = rotate(first.serialNumber);
    const r2 = rotate(first.serialNumber);
    // Two rotations of the same serial in one batch and in a second job: one new cert.
    const result = await run([r1, r2]);
    const later = await run([rotate(first.serialNumber)]);
    const serials = new Set([
      okRecord(result, r1.requestId).serialNumber,
      okRecord(result, r2.requestId).serialNumber,
      okRecord(later, carryingRecords(later).results[0]?.requestId ?? '').serialNumber,
    ]);
    expect(serials.size).toBe(1);
    expect(serials.has(first.serialNumber)).toBe(false);
    const rotated = (await readAllEvents(env.connect())).filter((e) => e.kind === 'rotated' && e.commonName === name);
    expect(rotated).toHaveLength(1);
  });

  it('spreads the renew times of certificates issued together', async () => {
    const batch = Array.from({ length: 24 }, (_, i) => item(`spread-${i}.cluster.local`));
    const result = await run(batch);
    const records = batch.map((r) => okRecord(result, r.requestId));
    const renewAts = records.map((r) => Date.parse(r.renewAt));
    expect(new Set(renewAts).size).toBe(records.length);
    for (const r of records) {
      const notBefore = Date.parse(r.notBefore);
      const notAfter = Date.parse(r.notAfter);
      const windowStart = notAfter - (notAfter - notBefore) / 3;
      expect(Date.parse(r.renewAt)).toBeLessThanOrEqual(windowStart + 1);
      expect(Date.parse(r.renewAt)).toBeGreaterThan(notBefore);
    }
    // A third of the 24h window is 8h; jitter up to half of it. Spread well beyond clock noise.
    expect(Math.max(...renewAts) - Math.min(...renewAts)).toBeGreaterThan(3600_000);
  });

  it('beats a heartbeat while running and withdraws it when closed', async () => {
    const redis = env.connect();
    expect(await liveInstances(redis, 'ca-service', PREFIX)).toContain('ca-test-1');
    const second = await startTresorCaService(env, 'ca-test-2');
    expect(await liveInstances(redis, 'ca-service', PREFIX)).toEqual(expect.arrayContaining(['ca-test-1', 'ca-test-2']));
    await second.close();
    expect(await liveInstances(redis, 'ca-service', PREFIX)).toEqual(['ca-test-1']);
    // The second replica found the bundle already published: still one announcement.
    expect((await readAllEvents(redis)).filter((e) => e.kind === 'trust-bundle-changed')).toHaveLength(1);
  });

  it('runs the configured number of jobs at once', () => {
    expect(service.issueWorker.concurrency).toBe(3);
    expect(service.rotateWorker.concurrency).toBe(3);
  });

  it('rotates through the rotate queue once per (name, serial)', async () => {
    const name = 'rotate-queue.cluster.local';
    const req = item(name);
    const original = okRecord(await run([req]), req.requestId);
    const rotateEvents = new QueueEvents('rotate', { connection: env.connect(), prefix: PREFIX });
    await rotateEvents.waitUntilReady();
    try {
      const payload = { version: 1 as const, commonName: name, serialNumber: original.serialNumber, reason: 'rotate-scheduled' as const };
      const job = await rotateQueue.add('rotate', payload, { jobId: rotateJobId(name, original.serialNumber) });
      const done = await job.waitUntilFinished(rotateEvents, 15_000);
      expect(done.outcome).toBe('rotated');
      expect(done.certificate?.previousSerialNumber).toBe(original.serialNumber);
      // The same id again is swallowed by BullMQ; a new id for the old serial is a no-op.
      const dup = await rotateQueue.add('rotate', payload, { jobId: rotateJobId(name, original.serialNumber) });
      expect(dup.id).toBe(job.id);
      const late = await rotateQueue.add('rotate', payload);
      expect((await late.waitUntilFinished(rotateEvents, 15_000)).outcome).toBe('already-rotated');
      const rotated = (await readAllEvents(env.connect())).filter((e) => e.kind === 'rotated' && e.commonName === name);
      expect(rotated).toHaveLength(1);
      expect(opensslVerify(done.certificate?.certificatePem ?? '', [rootPem]).ok).toBe(true);
    } finally {
      await rotateEvents.close();
    }
  });
});
