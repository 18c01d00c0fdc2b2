// The reload hook, run after every change of the files so the workload picks them up: a shell
// command, or a signal to a process (its pid given, or read from a pid file each time, since
// the workload may have restarted with a new pid). A hook that fails is reported; the files
// stay as written — they are correct, only the workload has not reloaded them yet.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { AgentError } from './errors.js';

export type ReloadHook =
  | { readonly command: string; readonly timeoutMs?: number }
  | { readonly signal: NodeJS.Signals; readonly pid: number }
  | { readonly signal: NodeJS.Signals; readonly pidFile: string };

/** What the hook is told about the change, also as environment variables of the command. */
export interface HookContext {
  readonly dir: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  /** Which files changed: cert, key, ca. */
  readonly changed: readonly string[];
  readonly reason: string;
}

export interface HookOutcome {
  readonly kind: 'command' | 'signal';
  /** Exit code of the command, or the pid signalled. */
  readonly detail: string;
  /** The command's output (stdout and stderr), trimmed and cut at 4 KiB. */
  readonly output?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 4_096;

export function isSignalName(value: string): value is NodeJS.Signals {
  return Object.prototype.hasOwnProperty.call(constants.signals, value);
}

export async function runHook(hook: ReloadHook, context: HookContext): Promise<HookOutcome> {
  if ('command' in hook) return runCommand(hook.command, hook.timeoutMs ?? DEFAULT_TIMEOUT_MS, context);
  const pid = 'pid' in hook ? hook.pid : await readPid(hook.pidFile);
  try {
    process.kill(pid, hook.signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new AgentError('HOOK_FAILED', `cannot send ${hook.signal} to pid ${pid} (${code}); is the workload running, and does the agent share its process namespace?`, { cause: error });
  }
  return { kind: 'signal', detail: String(pid) };
}

async function readPid(file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AgentError('HOOK_FAILED', `cannot read the pid file ${file} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}); is the workload running?`, { cause: error });
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid < 2) throw new AgentError('HOOK_FAILED', `the pid file ${file} holds ${JSON.stringify(text.trim().slice(0, 20))}, not a process id`);
  return pid;
}

function runCommand(command: string, timeoutMs: number, context: HookContext): Promise<HookOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        FSM_CERTS_DIR: context.dir,
        FSM_CERTS_SERIAL: context.serialNumber,
        FSM_CERTS_NOT_AFTER: context.notAfter,
        FSM_CERTS_CHANGED: context.changed.join(','),
        FSM_CERTS_REASON: context.reason,
      },
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new AgentError('HOOK_FAILED', `cannot start the reload command (${error.message})`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const trimmed = output.slice(0, OUTPUT_LIMIT).trim();
      if (timedOut) return reject(new AgentError('HOOK_FAILED', `the reload command did not finish within ${timeoutMs} ms and was killed; output: ${trimmed}`));
      if (code !== 0) return reject(new AgentError('HOOK_FAILED', `the reload command ${signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`}; output: ${trimmed}`));
      resolve({ kind: 'command', detail: 'exit 0', output: trimmed });
    });
  });
}
