import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHook, type HookContext } from './hook.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fsm-agent-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context: HookContext = { dir: '/certs', serialNumber: '0a1b2c', notAfter: '2026-01-02T00:00:00.000Z', changed: ['cert', 'key'], reason: 'its renew time was reached' };

/** A process that writes a line to `file` for every SIGHUP, and says when it is listening. */
function signalCatcher(file: string): Promise<{ pid: number; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['-e', `process.on('SIGHUP', () => require('fs').appendFileSync(${JSON.stringify(file)}, 'HUP\\n')); console.log('listening'); setInterval(() => {}, 1000);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', () => resolve({ pid: child.pid ?? 0, stop: () => child.kill('SIGKILL') }));
  });
}

async function until(probe: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the reload hook', () => {
  it('runs the command through the shell with the change described in its environment', async () => {
    const out = path.join(dir, 'env.txt');
    const outcome = await runHook({ command: `printf '%s|%s|%s|%s|%s' "$FSM_CERTS_DIR" "$FSM_CERTS_SERIAL" "$FSM_CERTS_NOT_AFTER" "$FSM_CERTS_CHANGED" "$FSM_CERTS_REASON" > ${out}; echo reloaded` }, context);
    expect(outcome).toEqual({ kind: 'command', detail: 'exit 0', output: 'reloaded' });
    expect(readFileSync(out, 'utf8')).toBe('/certs|0a1b2c|2026-01-02T00:00:00.000Z|cert,key|its renew time was reached');
  });

  it('fails with HOOK_FAILED naming the exit code and the output of a failing command', async () => {
    const error = await runHook({ command: 'echo nginx: config test failed >&2; exit 3' }, context).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('HOOK_FAILED');
    expect((error as Error).message).toBe('the reload command exited with code 3; output: nginx: config test failed');
  });

  it('kills a command that outlives its timeout', async () => {
    const error = await runHook({ command: 'exec sleep 30', timeoutMs: 200 }, context).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/did not finish within 200 ms and was killed/);
  });

  it('sends the signal to the given pid', async () => {
    const file = path.join(dir, 'hup-pid.txt');
    const catcher = await signalCatcher(file);
    try {
      expect(await runHook({ signal: 'SIGHUP', pid: catcher.pid }, context)).toEqual({ kind: 'signal', detail: String(catcher.pid) });
      await until(() => existsSync(file) && readFileSync(file, 'utf8') === 'HUP\n', 'the SIGHUP to arrive');
    } finally {
      catcher.stop();
    }
  });

  it('reads the pid file at every change, so a restarted workload with a new pid is still reached', async () => {
    const pidFile = path.join(dir, 'workload.pid');
    const first = path.join(dir, 'hup-first.txt');
    const second = path.join(dir, 'hup-second.txt');
    const a = await signalCatcher(first);
    const b = await signalCatcher(second);
    try {
      writeFileSync(pidFile, `${a.pid}\n`);
      await runHook({ signal: 'SIGHUP', pidFile }, context);
      await until(() => existsSync(first), 'the first workload to get SIGHUP');
      writeFileSync(pidFile, `${b.pid}\n`);
      await runHook({ signal: 'SIGHUP', pidFile }, context);
      await until(() => existsSync(second), 'the restarted workload to get SIGHUP');
    } finally {
      a.stop();
      b.stop();
    }
  });

  it.each([
    { why: 'a pid file that does not exist', hook: { signal: 'SIGHUP' as const, pidFile: '/nonexistent/x.pid' }, message: /cannot read the pid file .*ENOENT/ },
    { why: 'a pid file holding no pid', hook: { signal: 'SIGHUP' as const, pidFile: path.join(dir, 'garbage.pid') }, message: /not a process id/ },
  ])('fails with HOOK_FAILED for $why', async ({ hook, message }) => {
    writeFileSync(path.join(dir, 'garbage.pid'), 'nginx\n');
    const error = await runHook(hook, context).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('HOOK_FAILED');
    expect((error as Error).message).toMatch(message);
  });
});
