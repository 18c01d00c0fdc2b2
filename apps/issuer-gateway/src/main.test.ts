// The process as an operator runs it: bad configuration stops it at once with one line.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');

function run(env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=development', main], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('issuer-gateway main', () => {
  it('exits 1 with one line naming the bad option', () => {
    const { status, stderr } = run({ CERT_MANAGER: 'bogus', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/CERT_MANAGER|certificateProvider\.kind/);
  });
});
