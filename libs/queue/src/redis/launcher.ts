// Launches a private redis-server (tests and `npm start` without REDIS_URL). Binds 127.0.0.1 on a
// free port in a temp dir, with noeviction because BullMQ must never lose keys to eviction.
// restart() reuses the port and dir, so an appendonly server comes back with its data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueueError } from '../errors.js';

export interface RedisServerOptions {
  /** Port to bind; default a free port chosen by the OS. */
  readonly port?: number;
  /** Data dir; default a fresh temp dir, removed by stop(). A given dir is never removed. */
  readonly dir?: string;
  /** redis-server log file; default `<dir>/redis.log`. */
  readonly logFile?: string;
  /** Keep data across restart() through the append-only file; default true. */
  readonly appendOnly?: boolean;
  /** Binary to run; default `redis-server` from PATH. */
  readonly binary?: string;
  /** How long to wait for the server to answer after spawn; default 10 s. */
  readonly startTimeoutMs?: number;
}

export interface RedisServerHandle {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The redis-server process id while it runs (benchmarks read its CPU time). */
  readonly pid: number | undefined;
  /** Graceful shutdown (SIGTERM, flushes the AOF), then removes the temp dir if we made it. */
  stop(): Promise<void>;
  /** Stops (gracefully, unless it is already dead) and starts again on the same port and dir. */
  restart(): Promise<void>;
  /** SIGKILL, as a crash would; restart() brings it back. */
  kill(): Promise<void>;
  /**
   * Calls `listener` whenever the running server exits on its own — a crash or a kill from
   * outside — but not for stop(), restart() or kill(), so a supervisor can bring it back.
   * Returns a function that removes the listener.
   */
  onUnexpectedExit(listener: (exit: RedisServerExit) => void): () => void;
}

export interface RedisServerExit {
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const INSTALL_HINT =
  'Install one (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) or point REDIS_URL at an existing Redis >= 6.2.';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * The process id of the redis-server answering on 127.0.0.1:port, or undefined. Comparing it
 * with our child's pid proves the answer came from our server, not another on a taken port.
 */
function serverPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (pid: number | undefined): void => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(500, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('close', () => done(undefined));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.startsWith('-')) return done(undefined); // e.g. -LOADING while the AOF replays
      const match = /process_id:(\d+)\r\n/.exec(answer);
      if (match?.[1] !== undefined) done(Number(match[1]));
    });
  });
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test runner or app that exits without stop() must not leave orphan servers behind.
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * hash-max-listpack-value for the Redis we start and the chart's: above a format-3 inventory
 * record (~750 bytes for a P-256 leaf), so a certificate's hash is kept as a listpack.
 */
export const INVENTORY_HASH_MAX_LISTPACK_VALUE = '1024';

/**
 * auto-aof-rewrite-min-size for the Redis we start and the chart's (Redis's default: 64mb). An
 * AOF rewrite forks Redis (a pause of its main thread) and a child then writes the whole dataset
 * on a core of its own (0.4-2.8 s in the measured runs); issuing writes ~3.2 KB of AOF per certificate (most
 * of it job and event entries deleted soon after), so at 64mb a rollout issuing 2,000
 * certificates a second rewrote every ~10 s, and the requests overlapping a rewrite were most of
 * the slowest (tools/bench/README.md, "tail50"). At 512mb a rewrite comes ~9x less often while
 * the last rewrite's file is 10-50 MB, 4x at 100 MB, and from 256 MB Redis's 100% growth rule
 * decides alone, as before. The price: up to 512 MB of AOF on disk and to replay when Redis
 * restarts. Durability is the same (appendfsync everysec; a rewrite only compacts the file).
 */
export const AOF_REWRITE_MIN_SIZE = '512mb';

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'fsm-certs-redis-')));
  const port = options.port ?? (await freePort());
  const logFile = options.logFile ?? path.join(dir, 'redis.log');
  const binary = options.binary ?? 'redis-server';
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', options.appendOnly === false ? 'no' : 'yes',
    '--appendfsync', 'everysec',
    '--auto-aof-rewrite-min-size', AOF_REWRITE_MIN_SIZE,
    '--maxmemory-policy', 'noeviction',
    // A certificate's hash (a ~750-byte record and four short fields) stays a listpack, one
    // allocation instead of a dict of five entries: ~200 bytes less per certificate.
    '--hash-max-listpack-value', INVENTORY_HASH_MAX_LISTPACK_VALUE,
    '--daemonize', 'no',
    '--logfile', logFile,
  ];
  installExitHook();

  let child: ChildProcess | undefined;
  let stopped = false;
  // Exits we asked for (stop, restart, kill, a failed start) are not reported as unexpected.
  const requested = new WeakSet<ChildProcess>();
  const exitListeners = new Set<(exit: RedisServerExit) => void>();

  const spawnAndWait = async (): Promise<void> => {
    const proc = spawn(binary, args, { stdio: 'ignore' });
    child = proc;
    liveChildren.add(proc);
    proc.once('exit', (code, signal) => {
      liveChildren.delete(proc);
      if (requested.has(proc)) return;
      for (const listener of exitListeners) listener({ pid: proc.pid, code, signal });
    });
    const spawnError = new Promise<Error>((resolve) => proc.once('error', resolve));
    const deadline = Date.now() + startTimeoutMs;
    // Until it answers, an exit is a start failure, reported by the throw below.
    requested.add(proc);
    for (;;) {
      const outcome = await Promise.race([
        spawnError,
        waitForExit(proc).then(() => 'exited' as const),
        serverPid(port).then((pid) => (pid !== undefined && pid === proc.pid ? ('ready' as const) : ('retry' as const))),
      ]);
      if (outcome === 'ready') {
        requested.delete(proc);
        return;
      }
      if (outcome instanceof Error) {
        liveChildren.delete(proc);
        const notFound = (outcome as NodeJS.ErrnoException).code === 'ENOENT';
        throw new QueueError(
          notFound ? 'REDIS_NOT_INSTALLED' : 'REDIS_START_FAILED',
          notFound ? `"${binary}" is not on PATH. ${INSTALL_HINT}` : `Could not run "${binary}": ${outcome.message}. ${INSTALL_HINT}`,
          { cause: outcome },
        );
      }
      if (outcome === 'exited') {
        throw new QueueError(
          'REDIS_START_FAILED',
          `redis-server exited at start on port ${port} (code ${String(proc.exitCode)}); see ${logFile} — the port may be taken.`,
        );
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new QueueError('REDIS_START_FAILED', `redis-server on port ${port} did not answer within ${startTimeoutMs} ms; see ${logFile}.`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    requested.add(proc);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await waitForExit(proc);
  };

  try {
    await spawnAndWait();
  } catch (error) {
    if (ownDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate('SIGTERM');
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new QueueError('INVALID_ARGUMENT', 'restart() after stop(): start a new server instead.');
      await terminate('SIGTERM');
      await spawnAndWait();
    },
    async kill() {
      await terminate('SIGKILL');
    },
    onUnexpectedExit(listener) {
      exitListeners.add(listener);
      return () => exitListeners.delete(listener);
    },
  };
}
