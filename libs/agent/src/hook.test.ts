import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { runHook, type HookContext } from './hook.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fsm-agent-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context: HookContext = { dir: '/certs', serialNumber: '0a1b2c', notAfter: '2026-01-02T00:00:00.000Z', changed: ['cert', 'key'], reason: 'its renew time was reached' };

interface SignalCatcher {
  readonly pid: number;
  /** Resolves once the process has reported `count` SIGHUPs (it prints `HUP` on stdout as it handles one). */
  hupsSeen(count: number): Promise<void>;
  stop(): void;
}

/** A process that writes a line to `file` for every SIGHUP, reports each on stdout, and says when it is listening. */
function signalCatcher(file: string): Promise<SignalCatcher> {
  const child = spawn(
    process.execPath,
    ['-e', `process.on('SIGHUP', () => { require('fs').appendFileSync(${JSON.stringify(file)}, 'HUP\\n'); console.log('HUP'); }); console.log('listening'); setInterval(() => {}, 1000);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  let hups = 0;
  const waiters: Array<{ readonly count: number; readonly resolve: () => void }> = [];
  lines.on('line', (line) => {
    if (line !== 'HUP') return;
    hups += 1;
    for (const waiter of waiters.filter((w) => w.count <= hups)) waiter.resolve();
  });
  const hupsSeen = (count: number): Promise<void> => (hups >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`the signal catcher exited (${signal ?? code}) before it was listening`)));
    lines.once('line', () => resolve({ pid: child.pid ?? 0, hupsSeen, stop: () => child.kill('SIGKILL') }));
  });
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
      await catcher.hupsSeen(1);
      expect(readFileSync(file, 'utf8')).toBe('HUP\n');
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
      await a.hupsSeen(1);
      expect(existsSync(second)).toBe(false);
      writeFileSync(pidFile, `${b.pid}\n`);
      await runHook({ signal: 'SIGHUP', pidFile }, context);
      await b.hupsSeen(1);
      expect(readFileSync(first, 'utf8')).toBe('HUP\n');
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
