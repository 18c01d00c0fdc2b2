import { afterEach, describe, expect, it } from 'vitest';
import { benchEnvNumber } from './bench-env.js';

const NAME = 'BENCH_ENV_TEST_SETTING';

describe('benchEnvNumber', () => {
  afterEach(() => {
    delete process.env[NAME];
  });

  it('gives the default when the setting is unset or empty', () => {
    expect(benchEnvNumber(NAME, 6)).toBe(6);
    process.env[NAME] = ' ';
    expect(benchEnvNumber(NAME, 6)).toBe(6);
  });

  it('reads a number', () => {
    process.env[NAME] = '0.5';
    expect(benchEnvNumber(NAME, 6)).toBe(0.5);
  });

  it('stops with the setting named when it is not a number', () => {
    process.env[NAME] = 'six';
    expect(() => benchEnvNumber(NAME, 6)).toThrow(/BENCH_ENV_TEST_SETTING=six is not a number/);
  });
});
