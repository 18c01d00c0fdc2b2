// The worker section of the configuration as the two service mains read it.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@fsm-certs/config';

describe('worker configuration', () => {
  it('has the documented defaults', () => {
    const { worker } = loadConfig({ env: {} });
    expect(worker).toMatchObject({
      concurrency: 4,
      sweepInterval: '5s',
      sweepIntervalMs: 5_000,
      sweepLimit: 500,
      lockDurationMs: 10_000,
      stalledIntervalMs: 5_000,
      shutdownTimeoutMs: 25_000,
    });
    expect(worker.keyEncryptionKey).toBeUndefined();
  });

  it('reads every option from its environment variable', () => {
    const kek = Buffer.alloc(32, 7).toString('base64');
    const { worker } = loadConfig({
      env: {
        CA_SERVICE_CONCURRENCY: '12',
        CA_SERVICE_LOCK_DURATION: '30s',
        CA_SERVICE_STALLED_INTERVAL: '2s',
        WORKER_SHUTDOWN_TIMEOUT: '1m',
        ROTATION_SWEEP_INTERVAL: '1m30s',
        ROTATION_SWEEP_LIMIT: '50',
        FSM_KEY_ENCRYPTION_KEY: kek,
      },
    });
    expect(worker).toMatchObject({
      concurrency: 12,
      lockDurationMs: 30_000,
      stalledIntervalMs: 2_000,
      shutdownTimeoutMs: 60_000,
      sweepIntervalMs: 90_000,
      sweepLimit: 50,
      keyEncryptionKey: kek,
    });
  });

  it.each([
    ['CA_SERVICE_CONCURRENCY', '0', /worker\.concurrency/],
    ['CA_SERVICE_CONCURRENCY', 'many', /worker\.concurrency/],
    ['ROTATION_SWEEP_INTERVAL', 'soon', /worker\.sweepInterval/],
    ['CA_SERVICE_LOCK_DURATION', '1h', /worker\.lockDuration/],
    ['ROTATION_SWEEP_LIMIT', '-3', /worker\.sweepLimit/],
  ])('refuses %s=%s with one line naming the key', (name, value, key) => {
    const attempt = (): unknown => loadConfig({ env: { [name]: value } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(key);
    try {
      attempt();
    } catch (error) {
      expect(String(error instanceof Error ? error.message : error)).not.toContain('\n');
    }
  });

  it('refuses a key-encryption key that is not 32 bytes without printing it', () => {
    const short = Buffer.alloc(16, 9).toString('base64');
    const attempt = (): unknown => loadConfig({ env: { FSM_KEY_ENCRYPTION_KEY: short } });
    expect(attempt).toThrow(/worker\.keyEncryptionKey/);
    expect(attempt).not.toThrow(short);
  });
});
