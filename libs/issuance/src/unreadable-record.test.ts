// A name whose stored record does not decode (corrupted, another version's) must fail only the
// items asking for that name, with a code that says what to do, never the batch around it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyspace } from '@fsm-certs/queue';
import type { CertificateIssuer } from './certificate-issuer.js';
import { PREFIX, item, startIssuer, startTestEnv, type TestEnv } from './test-support.test-helpers.js';

describe('CertificateIssuer and a stored record that does not decode', () => {
  let env: TestEnv;
  let issuer: CertificateIssuer;

  beforeAll(async () => {
    env = await startTestEnv();
    ({ issuer } = await startIssuer(env));
  });
  afterAll(async () => {
    await env?.close();
  });

  it('fails that item with RECORD_UNREADABLE, leaves the record alone, and issues the rest of the batch', async () => {
    const redis = env.connect();
    const keys = keyspace(PREFIX);
    await redis.hset(keys.cert('broken.ns.cluster.local'), 'record', '{"commonName":"broken.ns.cluster.local"', 'serial', 'abc1');
    await redis.zadd(keys.names, 0, 'broken.ns.cluster.local');

    const answers = await issuer.handleItems([item('fine-1.ns.cluster.local'), item('broken.ns.cluster.local'), item('fine-2.ns.cluster.local')], { mayBeRetry: false });

    expect(answers.map((a) => a.ok)).toEqual([true, false, true]);
    const failed = answers[1];
    expect(failed?.ok === false ? failed.error : undefined).toMatchObject({ code: 'RECORD_UNREADABLE', commonName: 'broken.ns.cluster.local', serialNumber: 'abc1' });
    expect(await redis.hget(keys.cert('broken.ns.cluster.local'), 'serial')).toBe('abc1');
  });
});
