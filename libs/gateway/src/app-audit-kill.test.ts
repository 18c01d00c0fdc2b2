// A gateway killed with SIGKILL in the middle of a burst loses no audit record of a request it
// had answered: the record is written before the answer.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '@fsm-certs/queue';
import { TOKENS, harnessPerTest } from './testing/harness.test-helpers.js';

const ctx = harnessPerTest();
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testing', 'audit-child.test-helpers.ts');

describe('the audit trail under kill -9', () => {
  it('holds a record of every request the gateway answered before it was killed', async () => {
    const prefix = `{kill-${randomBytes(4).toString('hex')}}`;
    const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', child], {
      env: { PATH: process.env['PATH'] ?? '', REDIS_URL: ctx.shared.server.url, PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /port (\d+)/.exec(out);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        proc.once('exit', (code) => reject(new Error(`gateway child exited with ${String(code)}`)));
      });
      const answered: string[] = [];
      let killed = false;
      const requests = Array.from({ length: 40 }, async (_, i) => {
        const requestId = `kill-${i}`;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/v1/certificates`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKENS.bookstore}`, 'content-type': 'application/json', 'x-request-id': requestId },
            body: JSON.stringify({ commonName: `svc-${i}.bookstore.cluster.local` }),
          });
          if (res.status === 201) {
            await res.json();
            answered.push(requestId);
          }
          // Kill as soon as a few answers are in, with the rest still in flight.
          if (answered.length >= 10 && !killed) {
            killed = true;
            proc.kill('SIGKILL');
          }
        } catch {
          // A request the killed gateway never answered.
        }
      });
      await Promise.all(requests);
      await exited;
      expect(killed).toBe(true);
      expect(answered.length).toBeGreaterThanOrEqual(10);
      const trail = new AuditLog(ctx.shared.redis, { prefix, retentionMs: 365 * 24 * 3600_000, now: () => Date.parse('2026-01-01T00:00:00Z') });
      const { items } = await trail.query({ limit: 1000, sinceMs: 0 });
      const recorded = new Set(items.filter((r) => r.outcome === 'issued').map((r) => r.requestId));
      expect(answered.filter((id) => !recorded.has(id))).toEqual([]);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 60_000);
});
