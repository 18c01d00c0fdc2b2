// Keys, tokens and CSRs never reach a log line, wherever they appear in a logged object.
import { describe, expect, it } from 'vitest';
import { logLevelFromEnv } from './logger.js';
import { memoryLogger } from './memory-logger.test-helpers.js';

describe('service logger', () => {
  it.each([
    ['a private key at the top level', { privateKey: '-----BEGIN PRIVATE KEY-----abc' }],
    ['a sealed key inside a record', { record: { commonName: 'a.local', encryptedPrivateKey: 'v1.aaa.bbb.ccc' } }],
    ['a CSR inside an item', { item: { commonName: 'a.local', csrPem: '-----BEGIN CERTIFICATE REQUEST-----xyz' } }],
    ['CSRs of a whole batch', { requests: [{ csrPem: '-----BEGIN CERTIFICATE REQUEST-----xyz' }] }],
    ['a token one level down', { auth: { token: 's3cr3t-token' } }],
    ['the KEK in config', { config: { worker: { keyEncryptionKey: 'a2VrLWtlay1rZWs=' } } }],
  ])('redacts %s', (_what, payload) => {
    const { logger, lines } = memoryLogger();
    logger.info(payload, 'something happened');
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(line).toContain('[redacted]');
    expect(line).not.toMatch(/BEGIN|abc|v1\.aaa|xyz|s3cr3t|a2VrLWtlay1rZWs/);
    expect(JSON.parse(line)).toMatchObject({ msg: 'something happened', service: 'test' });
  });

  it('reads LOG_LEVEL and falls back to info for unknown values', () => {
    expect(logLevelFromEnv({ LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevelFromEnv({ LOG_LEVEL: 'loud' })).toBe('info');
    expect(logLevelFromEnv({})).toBe('info');
  });
});
