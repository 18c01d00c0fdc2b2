// Loaded into each app with NODE_OPTIONS=--import=<tools/bench/dist/issue/timeline-probe.js> by
// `BENCH_TIMELINE=1 npm run bench:critical-path`: an in-process timeline of a lone request without
// MONITOR (which slows Redis). It records, with absolute microsecond times comparable across
// processes, every socket write (a Redis command by name, a script by its SHA-1 prefix and first
// key), every socket read, every HTTP request received, and marks where BullMQ takes a job,
// starts and ends the processor, completes the job and blocks for the next one, and where the
// gateway's FinishedJobReader (@fsm-certs/queue) hands a finished job's entry to its waiter. The gaps between a read and the process's next write are its own time:
// what it computes or waits for (a timer, a setImmediate turn, another socket's callback).
// Written to `$FSM_TIMELINE_DIR/<pid>.json` when the process exits.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const dir = process.env['FSM_TIMELINE_DIR'];

/**
 * [µs since the epoch, kind, connection, detail]; kind: w (write), r (read), req (HTTP request), m
 * (mark). The connection is a number per socket of the process (0 for marks): a server's sockets
 * all share its local port, so the port could not tell one HTTP client's request from another's.
 */
export type TimelineEvent = [number, 'w' | 'r' | 'req' | 'm', number, string];

export interface TimelineFile {
  readonly pid: number;
  readonly app: string;
  readonly events: readonly TimelineEvent[];
}

const MAX_EVENTS = 1_000_000;

/** A collection's kind as the marks name it: a scavenge is `minor`, a full collection `major`. */
const GC_KINDS = new Map<unknown, string>([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

function text(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk.slice(0, 200);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.byteLength, 200)).toString('latin1');
  return '';
}

/** A RESP command as `evalsha 1a2b3c4d issue:wait` or `xread BLOCK`; anything else by its first bytes. */
function commandOf(raw: string): string {
  const parts = raw.split('\r\n');
  if (!(parts[0] ?? '').startsWith('*')) return raw.slice(0, 30).replaceAll('\r\n', '|');
  const command = (parts[2] ?? '').toLowerCase();
  const first = parts[4] ?? '';
  if (command === 'evalsha') return `evalsha ${first.slice(0, 8)} ${(parts[8] ?? '').split(':').slice(-2).join(':')}`;
  return `${command} ${first.split(':').slice(-2).join(':')}`;
}

if (dir !== undefined && dir !== '') {
  const events: TimelineEvent[] = [];
  const record = (kind: TimelineEvent[1], port: number, detail: string): void => {
    if (events.length < MAX_EVENTS) events.push([nowUs(), kind, port, detail]);
  };
  const app = /apps\/([^/]+)\//.exec(process.argv[1] ?? '')?.[1] ?? path.basename(process.argv[1] ?? 'node');

  const socketIds = new WeakMap<object, number>();
  let sockets = 0;
  const connection = (socket: object): number => {
    let id = socketIds.get(socket);
    if (id === undefined) {
      sockets += 1;
      id = sockets;
      socketIds.set(socket, id);
    }
    return id;
  };
  const socket = net.Socket.prototype;
  const write = socket.write;
  socket.write = function (this: net.Socket, ...args: Parameters<typeof write>) {
    record('w', connection(this), commandOf(text(args[0])));
    return write.apply(this, args);
  } as typeof write;
  const emit = socket.emit;
  socket.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]) {
    if (event === 'data') record('r', connection(this), text(args[0]).slice(0, 40).replaceAll('\r\n', '|'));
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof emit;
  const serverEmit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]) {
    const req = args[0];
    if (event === 'request' && req instanceof http.IncomingMessage) record('req', connection(req.socket), `${req.method ?? ''} ${req.url ?? ''}`);
    return Reflect.apply(serverEmit, this, [event, ...args]) as boolean;
  } as typeof serverEmit;

  // The app's own BullMQ (resolved from its main module), so the marks are on the classes it uses.
  type Classes = Record<string, { prototype: Record<string, unknown> } | undefined>;
  const requireFromApp = createRequire(process.argv[1] ?? import.meta.url);
  /** `detail` names the job a mark is about (` <jobId>`, and ` <items>` where the job is added), for pipeline.ts. */
  const wrapIn =
    (classes: Classes) =>
    (className: string, method: string, label: string, detail: (self: unknown, args: readonly unknown[]) => string = () => ''): void => {
      const proto = classes[className]?.prototype;
      const original = proto?.[method];
      if (proto === undefined || typeof original !== 'function') return;
      proto[method] = function (this: unknown, ...args: unknown[]): unknown {
        const about = detail(this, args);
        record('m', 0, `${label}>${about}`);
        const result: unknown = Reflect.apply(original, this, args);
        if (result instanceof Promise) result.then(() => record('m', 0, `${label}<${about}`), () => record('m', 0, `${label}!${about}`));
        return result;
      };
    };
  const field = (value: unknown, name: string): unknown => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined);
  const idOf = (value: unknown): string => {
    const id = field(value, 'id') ?? field(value, 'jobId');
    return typeof id === 'string' ? ` ${id}` : '';
  };
  try {
    const wrap = wrapIn(requireFromApp('bullmq') as Classes);
    wrap('Queue', 'add', 'queue.add', (_self, args) => {
      const requests = field(args[1], 'requests');
      return `${idOf(args[2])} ${Array.isArray(requests) ? requests.length : 0}`;
    });
    wrap('Worker', 'nextJobFromJobData', 'worker.nextJobFromJobData');
    wrap('Worker', 'callProcessJob', 'worker.processor', (_self, args) => idOf(args[0]));
    wrap('Worker', 'getBlockTimeout', 'worker.block');
    wrap('Job', 'moveToCompleted', 'job.moveToCompleted', (self) => idOf(self));
  } catch {
    // An app without BullMQ (the load client): sockets only.
  }
  try {
    wrapIn(requireFromApp('@fsm-certs/queue') as Classes)('FinishedJobReader', 'dispatch', 'finishedJobs.dispatch', (_self, args) => {
      const fields: unknown = args[0];
      // Every entry of the stream passes here (added, active, ...); the event's name says which.
      // The reader hands over the fields as Buffers (strings before it read them so).
      const at = (i: number): string => {
        const value: unknown = Array.isArray(fields) ? fields[i] : undefined;
        return Buffer.isBuffer(value) ? value.toString('latin1') : typeof value === 'string' ? value : '';
      };
      return at(3) === '' ? '' : ` ${at(3)} ${at(1)}`;
    });
  } catch {
    // Not the gateway: no finished-job reader.
  }
  // Collections with their main-thread pause: does a slow job meet a mark-compact somewhere?
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = field(Reflect.get(entry, 'detail'), 'kind');
      const startUs = Math.round((performance.timeOrigin + entry.startTime) * 1000);
      if (events.length < MAX_EVENTS) events.push([startUs, 'm', 0, `gc ${GC_KINDS.get(kind) ?? 'other'} ${Math.round(entry.duration * 1000)}`]);
    }
  }).observe({ entryTypes: ['gc'] });

  process.on('exit', () => {
    mkdirSync(dir, { recursive: true });
    const file: TimelineFile = { pid: process.pid, app, events };
    writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify(file));
  });
}
