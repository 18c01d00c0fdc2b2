// `npm start` as an operator runs it: tools/stack/src/main.ts in its own process, its output read
// line by line. It runs in a process group of its own, so a test can prove that nothing it
// started outlives it (every child inherits the group).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { repoRoot } from '../app-process.js';

const endpointSchema = z.object({ gatewayUrl: z.string(), adminToken: z.string(), caFile: z.string(), redisUrl: z.string() });
export type Endpoint = z.infer<typeof endpointSchema>;

export interface NpmStart {
  readonly child: ChildProcess;
  readonly dataDir: string;
  /** Every line printed so far, stdout and stderr interleaved as they came. */
  readonly lines: readonly string[];
  /** Resolves with the first line matching `pattern` (already printed or to come); fails if it exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process ended. */
  readonly exited: Promise<number | null>;
  /** The pids from the ready banner ("processes: redis-server 12, ca-service 13, ..."). */
  pids(): Map<string, number>;
  endpoint(): Endpoint;
  endpointWritten(): boolean;
  /** True while any process of its group (it or anything it started) is alive. */
  groupAlive(): boolean;
  /** `ps` lines of the processes still in its group, for failure messages. */
  survivors(): string;
  /** SIGKILL to the whole group and removal of the data dir: a test's cleanup. */
  destroy(): void;
}

export function startNpmStart(env: NodeJS.ProcessEnv): NpmStart {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fsm-npm-start-'));
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', path.join(repoRoot(), 'tools', 'stack', 'src', 'main.ts')], {
    cwd: repoRoot(),
    env: { ...process.env, LOG_LEVEL: 'warn', FSM_DATA_DIR: dataDir, GATEWAY_ADMIN_TOKEN: '', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error('npm start did not start');
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = { out: '', err: '' };
  const onData = (key: 'out' | 'err') => (chunk: Buffer) => {
    const text = partial[key] + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = { ...partial, [key]: parts.pop() ?? '' };
    lines.push(...parts);
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData('out'));
  child.stderr?.on('data', onData('err'));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const wake of waiters) wake();
  });

  const groupAlive = (): boolean => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };

  return {
    child,
    dataDir,
    lines,
    exited,
    waitForLine(pattern, timeoutMs = 150_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no line matching ${String(pattern)} after ${timeoutMs} ms:\n${lines.slice(-40).join('\n')}`)), timeoutMs);
        const check = (): void => {
          const found = lines.find((line) => pattern.test(line));
          if (found !== undefined) finish(undefined, found);
          else if (done) finish(new Error(`npm start exited before printing ${String(pattern)}:\n${lines.slice(-40).join('\n')}`));
        };
        const finish = (error: Error | undefined, line?: string): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error !== undefined) reject(error);
          else resolve(line ?? '');
        };
        waiters.add(check);
        check();
      });
    },
    pids() {
      const banner = lines.find((line) => line.trimStart().startsWith('processes:'));
      if (banner === undefined) throw new Error('no "processes:" line in the ready banner yet');
      return new Map(
        banner
          .replace(/^\s*processes:\s*/, '')
          .split(', ')
          .map((entry) => {
            const [label, pid] = entry.split(' ');
            return [label ?? '', Number(pid)] as const;
          }),
      );
    },
    endpoint() {
      return endpointSchema.parse(JSON.parse(readFileSync(path.join(dataDir, 'endpoint.json'), 'utf8')));
    },
    endpointWritten: () => existsSync(path.join(dataDir, 'endpoint.json')),
    groupAlive,
    survivors() {
      const ps = spawnSync('ps', ['-o', 'pid,ppid,stat,etimes,args', '-g', String(pgid)], { encoding: 'utf8' });
      return ps.stdout;
    },
    destroy() {
      if (groupAlive()) process.kill(-pgid, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
