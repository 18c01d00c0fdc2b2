#!/usr/bin/env node
// fsm-certs: the operator CLI. A composition root only: real process I/O, Ctrl-C, and the
// relaunch that lets fetch trust a private CA; everything else is in run.ts.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { runCli } from './run.js';

const stop = new AbortController();
// The agent stops on the abort by itself (files finished, last line logged, exit 0), however long
// a loaded machine takes for that; a grace timer would turn its clean stop into exit 130.
const stopsOnAbort = process.argv[2] === 'agent';
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A second Ctrl-C means "now".
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    // `events` ends cleanly on the abort (exit 0); a request still in flight elsewhere has no
    // reason to hold the prompt, so after a short grace the process goes regardless.
    if (!stopsOnAbort) setTimeout(() => process.exit(130), 500).unref();
  });
}

function relaunchTrusting(caFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile, FSM_CERTS_TRUSTED_CA: caFile },
    });
    // The terminal sends Ctrl-C to both of us; a kill aimed at this process is passed on.
    stop.signal.addEventListener('abort', () => child.kill('SIGTERM'), { once: true });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))));
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  signal: stop.signal,
  now: () => new Date(),
  relaunchTrusting,
});
