// Faults on a real Vault we own: OpenBao with integrated (raft) storage on disk, so it can be
// stopped and started again with its PKI intact, and sealed and unsealed. A Vault from the
// environment is never used here: we do not stop someone else's server.
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerFailure } from '../provider-error.test-helpers.js';
import { issueRequest, memoryLogger, startVaultSuite } from './vault-target.test-helpers.js';
import type { VaultSuite } from './vault-target.test-helpers.js';

const suite: VaultSuite = await startVaultSuite({ storage: 'disk', needsFaults: true, suite: 'vault faults' });
const { target } = suite;
const faults = target.faults;
if (faults === undefined) throw new Error(`${target.description} offers no faults`);

describe(`the Vault provider through outages of ${target.description}`, () => {
  beforeAll(async () => {
    await suite.bootstrap();
  });
  afterAll(() => suite.close());

  it('answers BACKEND_UNAVAILABLE while Vault is stopped, and recovers after a restart without a new provider, losing no request', async () => {
    const logger = memoryLogger();
    const provider = await suite.start({ logger, retry: { maxAttempts: 12, baseDelayMs: 100, maxDelayMs: 1_000 } });
    const trusted = (await provider.trustBundle()).trustedCasPem;
    await provider.issue(issueRequest('before.example'));
    await faults.stop();
    try {
      const quick = await suite.start({ retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 } }).catch((e: unknown) => e);
      expect(quick).toMatchObject({ code: 'BACKEND_UNAVAILABLE', httpStatus: 503, retryable: true });
      // The trust bundle keeps being served from what the provider already knows.
      expect((await provider.trustBundle()).trustedCasPem).toEqual(trusted);
      // Asked while Vault is down: its retries carry it past the restart.
      const pending = provider.issue(issueRequest('in-flight.example'));
      await expect.poll(() => logger.lines.some((l) => l.startsWith('vault request will be retried') && l.includes('/issue/fsm'))).toBe(true);
      await faults.start();
      await expect(pending).resolves.toMatchObject({ commonName: 'in-flight.example' });
    } finally {
      await faults.start();
    }
    await expect(provider.issue(issueRequest('after.example'))).resolves.toMatchObject({ commonName: 'after.example' });
  });

  it('answers BACKEND_UNAVAILABLE saying Vault is sealed, and issues again once it is unsealed', async () => {
    const { seal, unseal } = faults;
    if (seal === undefined || unseal === undefined) throw new Error(`${target.description} cannot be sealed`);
    const provider = await suite.start({ retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 } });
    await seal();
    try {
      const error = await providerFailure(provider.issue(issueRequest('while-sealed.example')));
      expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', httpStatus: 503, retryable: true });
      expect(error.message).toMatch(/sealed/i);
    } finally {
      await unseal();
    }
    await expect(provider.issue(issueRequest('after-unseal.example'))).resolves.toMatchObject({ commonName: 'after-unseal.example' });
  });
  it("fails a sealed Vault's whole job of 12 items, all backing off on the job's one cancellation signal, without Node warning of a listener leak", async () => {
    const { seal, unseal } = faults;
    if (seal === undefined || unseal === undefined) throw new Error(`${target.description} cannot be sealed`);
    const provider = await suite.start({ retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 20 } });
    const job = new AbortController();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    await seal();
    try {
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => providerFailure(provider.issue(issueRequest(`sealed-${i}.example`), job.signal))));
      expect(outcomes.map((e) => e.code)).toEqual(Array.from({ length: 12 }, () => 'BACKEND_UNAVAILABLE'));
      // Node emits its warnings on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual([]);
      expect(getEventListeners(job.signal, 'abort')).toHaveLength(0);
    } finally {
      process.off('warning', onWarning);
      await unseal();
    }
  });
});
