// `fsm-certs audit` against the running system: after a mixed run of issues, a refusal, a
// rotation and a release, the trail shows each decision exactly once with its caller.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

describe('fsm-certs audit against a running system', () => {
  let h: Harness;
  let env: NodeJS.ProcessEnv;

  const cli = (args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', 'apps/cli/src/main.ts', ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  beforeAll(async () => {
    h = await startHarness({ rotationWorkers: 0 });
    env = { ...process.env, FSM_CERTS_SERVER: h.stack.gatewayUrl, FSM_CERTS_TOKEN: h.stack.adminToken, FSM_DATA_DIR: '' };
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('lists each issue, refusal, rotation and release exactly once, with its caller', async () => {
    const call = (method: string, route: string, body?: unknown): Promise<Response> =>
      fetch(h.stack.gatewayUrl + route, {
        method,
        headers: { authorization: `Bearer ${h.stack.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await call('POST', '/v1/certificates', { commonName: 'audit-a.bookstore.cluster.local' })).status).toBe(201);
    expect((await call('POST', '/v1/certificates', { commonName: 'audit-b.bookstore.cluster.local' })).status).toBe(201);
    expect((await call('POST', '/v1/certificates', { commonName: '*.com' })).status).toBe(400);
    expect((await call('POST', '/v1/certificates/audit-a.bookstore.cluster.local/rotate')).status).toBe(200);
    expect((await call('DELETE', '/v1/certificates/audit-b.bookstore.cluster.local')).status).toBe(204);

    const result = await cli(['audit', '--caller', 'admin', '--since', '1h']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n').filter((l) => l.includes('audit-') || l.includes('*.com'));
    expect(lines.map((l) => l.split(/\s+/).slice(1, 4))).toEqual([
      ['issued', 'admin', 'audit-a.bookstore.cluster.local'],
      ['issued', 'admin', 'audit-b.bookstore.cluster.local'],
      ['refused', 'admin', '*.com'],
      ['rotated', 'admin', 'audit-a.bookstore.cluster.local'],
      ['released', 'admin', 'audit-b.bookstore.cluster.local'],
    ]);
    expect(lines[2]).toContain('code=INVALID_NAME');
    const byName = await cli(['audit', '--name', 'audit-b.bookstore.cluster.local', '--json']);
    expect((JSON.parse(byName.stdout) as Array<{ outcome: string }>).map((r) => r.outcome)).toEqual(['issued', 'released']);
  }, 120_000);
});
