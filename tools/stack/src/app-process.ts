// Runs one of our apps as a child process, the way a pod would run it: its own process, its own
// environment, stopped by SIGTERM. Used by `npm start` and by the end-to-end suites (which also
// kill -9 it to prove that nothing is lost).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { nodeFlags } from './node-flags.js';
import type { ProcessExit } from './supervisor.js';

export type AppName = 'ca-service' | 'issuer-gateway' | 'rotation-worker';

/** The repository root: the nearest directory above this file holding nx.json. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (nx.json) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** Where an app's code comes from: its TypeScript through tsx, or the output of `npm run build`. */
export type RunFrom = 'source' | 'dist';

/**
 * The source entry point through tsx (development), or the built dist/main.js — what the
 * Docker images run, and what a benchmark should measure (tsx costs ~10% CPU per request).
 * Without runFrom: source when there is source.
 */
function entryArgs(name: AppName, env: NodeJS.ProcessEnv, runFrom: RunFrom | undefined): string[] {
  const root = repoRoot();
  // FSM_PROFILE_DIR: write a V8 CPU profile per app on exit (node refuses --cpu-prof in NODE_OPTIONS).
  // Then the runtime flags of deploy/docker/node-flags (or FSM_NODE_FLAGS), as the image's entry passes them.
  const profile = env['FSM_PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${env['FSM_PROFILE_DIR']}`] : [];
  const flags = [...profile, ...nodeFlags(root, env)];
  const source = path.join(root, 'apps', name, 'src', 'main.ts');
  const built = path.join(root, 'apps', name, 'dist', 'main.js');
  if (runFrom === 'dist' || (runFrom === undefined && !existsSync(source))) {
    if (!existsSync(built)) throw new Error(`${built} does not exist; run \`npm run build\` first`);
    return [...flags, built];
  }
  return [...flags, '--import', 'tsx', '--conditions=development', source];
}

/**
 * Runs an app to its exit, with exactly `env` (start-up failures: bad configuration, no Redis):
 * its exit code and every non-empty output line. Bounded: a child still running after `timeoutMs`
 * is killed and reports status null.
 */
export function runAppToExit(name: AppName, env: NodeJS.ProcessEnv, options: { runFrom?: RunFrom; timeoutMs?: number } = {}): { status: number | null; lines: string[] } {
  const result = spawnSync(process.execPath, entryArgs(name, env, options.runFrom), { cwd: repoRoot(), env, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 });
  return { status: result.status, lines: `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.trim() !== '') };
}

export interface AppProcessOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Called with every output line of the app (stdout and stderr). */
  readonly onLine?: (app: string, line: string) => void;
  /** Name used in output; defaults to the app name (e.g. `rotation-worker-2` for a second replica). */
  readonly label?: string;
  /** Default: the source through tsx when it exists, else the build output. */
  readonly runFrom?: RunFrom;
  /** Append the app's output (stdout and stderr) to this file, across restarts. */
  readonly logFile?: string;
}

/**
 * What an app sends its parent over the IPC channel once it serves: the issuer-gateway sends it
 * after it bound its port, so a parent knows the port is held by this child, not by another
 * process that happens to answer there.
 */
export const readyAnnouncementSchema = z.object({
  type: z.literal('ready'),
  service: z.string(),
  url: z.url(),
  pid: z.number().int().positive(),
});
export type ReadyAnnouncement = z.infer<typeof readyAnnouncementSchema>;

export class AppProcess {
  readonly label: string;
  private child: ChildProcess;
  private exitPromise: Promise<number | null>;
  /** The last output lines (up to 2,000), for assertions and failure messages. */
  readonly recentOutput: string[] = [];
  /** The current child's ready announcement, once it sent one. */
  private announcement: ReadyAnnouncement | undefined;
  private readonly exitListeners = new Set<(exit: ProcessExit) => void>();
  /** Children whose exit we asked for (stop, kill, signal): not reported as unexpected. */
  private readonly requested = new WeakSet<ChildProcess>();

  constructor(
    readonly app: AppName,
    private readonly options: AppProcessOptions,
  ) {
    this.label = options.label ?? app;
    ({ child: this.child, exited: this.exitPromise } = this.spawnChild());
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get logFile(): string | undefined {
    return this.options.logFile;
  }

  /** The ready announcement of the running child, if it sent one (only the gateway does today). */
  get announced(): ReadyAnnouncement | undefined {
    return this.announcement;
  }

  /**
   * Calls `listener` whenever the app exits without stop(), kill() or signal() having been
   * called — a crash, or a kill from outside — so a supervisor can start it again.
   */
  onUnexpectedExit(listener: (exit: ProcessExit) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  private spawnChild(): { child: ChildProcess; exited: Promise<number | null> } {
    // The IPC channel carries only the ready announcement; an app with no 'message' listener
    // keeps no event-loop reference on it, so it changes nothing else about the app.
    const child = spawn(process.execPath, entryArgs(this.app, this.options.env, this.options.runFrom), {
      cwd: repoRoot(),
      env: this.options.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.announcement = undefined;
    const log = this.openLog(child);
    child.on('message', (message: unknown) => {
      const parsed = readyAnnouncementSchema.safeParse(message);
      // Only the child's own pid counts: a message about another process proves nothing.
      if (!parsed.success || parsed.data.pid !== child.pid || child !== this.child) return;
      this.announcement = parsed.data;
    });
    const onData = (chunk: Buffer): void => {
      log?.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        this.recentOutput.push(line);
        if (this.recentOutput.length > 2_000) this.recentOutput.shift();
        this.options.onLine?.(this.label, line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // 'close' comes after the output is drained, so listeners see the app's last words (such as
    // the gateway's EADDRINUSE) in recentOutput.
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.requested.has(child)) return;
      for (const listener of this.exitListeners) listener({ pid: child.pid, code, signal });
    });
    return { child, exited };
  }

  /** One append stream per child, ended once its output is drained. */
  private openLog(child: ChildProcess): NodeJS.WritableStream | undefined {
    const file = this.options.logFile;
    if (file === undefined) return undefined;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    stream.on('error', () => undefined); // a full disk must not take the stack down
    stream.write(`--- ${new Date().toISOString()} ${this.label} started (pid ${String(child.pid)})\n`);
    child.once('close', (code, signal) => {
      stream.end(`--- ${new Date().toISOString()} ${this.label} (pid ${String(child.pid)}) ${signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`}\n`);
    });
    return stream;
  }

  /** Resolves with the first output line matching `pattern`; fails if the app exits first. */
  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.recentOutput.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      const tail = this.recentOutput.slice(-20).join('\n');
      if (!this.running) throw new Error(`${this.label} exited before printing ${String(pattern)}:\n${tail}`);
      if (Date.now() > deadline) throw new Error(`${this.label}: no line matching ${String(pattern)} after ${timeoutMs} ms:\n${tail}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The URL of the app's health server (/healthz, /readyz, /metrics), from its start-up line. */
  async healthUrl(timeoutMs = 60_000): Promise<string> {
    const line = await this.waitForLine(/health endpoints listening/, timeoutMs);
    const url: unknown = (JSON.parse(line) as { url?: unknown }).url;
    if (typeof url !== 'string') throw new Error(`${this.label}: no url in its health line: ${line}`);
    return url;
  }

  /** Sends a signal without waiting (e.g. SIGTERM in the middle of a job). */
  signal(signal: NodeJS.Signals): void {
    this.requested.add(this.child);
    this.child.kill(signal);
  }

  /** Graceful stop: SIGTERM, then SIGKILL after the grace period. Resolves with the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.requested.add(this.child);
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exitPromise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** kill -9, as a crashed node or an OOM kill would. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.requested.add(this.child);
    this.child.kill('SIGKILL');
    await this.exitPromise;
  }

  /** Starts the same app again with the same environment (after stop() or kill()). */
  restart(): void {
    if (this.running) throw new Error(`${this.label} is still running; stop it first`);
    ({ child: this.child, exited: this.exitPromise } = this.spawnChild());
  }

  exited(): Promise<number | null> {
    return this.exitPromise;
  }
}
