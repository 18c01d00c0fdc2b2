// The `completed` / `failed` events of a BullMQ queue's events stream, for a producer awaiting
// its own jobs: in place of BullMQ's QueueEvents, which builds an object for every event of the
// queue (added, waiting, active, completed, drained, ...), parses every job's result (every other
// gateway's too) and emits it twice. This reader skips entries by their first field pair and
// parses the result only of a job it was asked to watch.
//
// The stream is BullMQ's own (`<prefix>:<queue>:events`, entries `event <name> jobId <id> ...`;
// moveToFinished writes `returnvalue <json>` or `failedReason <text>` next); finished-jobs.test.ts
// pins that layout against a real BullMQ Worker, so an upgrade that changes it fails a test.
//
// It reads the stream as bytes (XREAD's Buffer form): ioredis would otherwise turn every field of
// every entry into a string: a job's `added`, `waiting` and `active` entries and other gateways'
// results included. Only a `completed` / `failed` entry's job id, and then a watched job's result or
// reason, become strings; of the rest, the last entry's id (where the next read starts).
//
// Like QueueEvents, it reads on from the last entry it saw (a reconnect included) and races each
// blocking read against a watchdog, since ioredis may re-send an interrupted read after a
// reconnect that never answers. Unlike QueueEvents it fixes its start at once (the stream's newest
// id, not '$' on every read until a first event arrives): once `ready`, every finish of a job
// added later is delivered. And it notices a trimmed stream: XADD MAXLEN ~ keeps at least the
// configured length, so a read returning fewer entries than that cannot have skipped any; only a
// read that long looks up the oldest kept id, and a gap is reported (QueueEvents reads on silently).
import type { Redis } from 'ioredis';
import type { QueueName } from '../contracts/queue-names.js';
import { QueueError } from '../errors.js';
import { DEFAULT_PREFIX, assertValidPrefix } from '../keys.js';
import { compareStreamIds } from './event-stream.js';

export interface FinishedJobListener {
  /** The job's return value (its `completed` event's JSON, parsed). */
  resolve(returnvalue: unknown): void;
  /** The job failed for good (BullMQ writes `failed` only then), or its result did not parse. */
  reject(error: Error): void;
}

/** Events after `lastId` were trimmed before this reader read them; reading goes on with `oldestId`. */
export interface FinishedJobsGap {
  readonly lastId: string;
  readonly oldestId: string;
}

export interface FinishedJobReaderOptions {
  readonly prefix?: string;
  /** One blocking read's wait; default 10 000 ms (QueueEvents' default). */
  readonly blockMs?: number;
  /**
   * A read returning at least this many entries is checked against the oldest kept id. Must not
   * exceed the queue's `streams.events.maxLen` (BullMQ's default 10 000, which the issue queue keeps).
   */
  readonly gapCheckEntries?: number;
  /** A read failed (Redis down); the reader retries from the last id it saw. */
  readonly onError?: (error: unknown) => void;
  /** Entries were trimmed unread: finishes of watched jobs may have been among them. */
  readonly onGap?: (gap: FinishedJobsGap) => void;
}

/** Entries as XREAD's Buffer form returns them: id, then the field list (name, value pairs). */
type Entries = Array<[Buffer, Buffer[]]>;
type XReadReply = Array<[Buffer, Entries]> | null;

const RETRY_MS = 200;
/** How long past its BLOCK a read may stay unanswered before the connection is reset. */
const WATCHDOG_MARGIN_MS = 1_000;

class ReadTimedOut extends Error {}

const EVENT = Buffer.from('event');
const JOB_ID = Buffer.from('jobId');
const COMPLETED = Buffer.from('completed');
const FAILED = Buffer.from('failed');
const RETURN_VALUE = Buffer.from('returnvalue');
const FAILED_REASON = Buffer.from('failedReason');

/** Whether `bytes` holds exactly `name` (a field name of a few bytes). */
function isName(bytes: Buffer | undefined, name: Buffer): boolean {
  if (bytes === undefined || bytes.length !== name.length) return false;
  for (let i = 0; i < name.length; i += 1) if (bytes[i] !== name[i]) return false;
  return true;
}

/** The value of `name` in an entry's field list (pairs), or undefined. */
function fieldValue(fields: readonly Buffer[], name: Buffer, from: number): Buffer | undefined {
  for (let i = from; i + 1 < fields.length; i += 2) if (isName(fields[i], name)) return fields[i + 1];
  return undefined;
}

export class FinishedJobReader {
  /** The BullMQ events stream read (`<prefix>:<queue>:events`). */
  readonly key: string;
  private readonly watched = new Map<string, FinishedJobListener>();
  private readonly blockMs: number;
  private readonly gapCheckEntries: number;
  private lastId: string | undefined;
  private closing = false;
  private loop: Promise<void> | undefined;
  private started: Promise<void> | undefined;
  private markStarted: (() => void) | undefined;
  private readCount = 0;

  /**
   * Takes `connection` over: it carries only this reader's blocking reads and is disconnected by
   * close(). It must wait out outages (createRedisConnection's 'worker' role).
   */
  constructor(
    private readonly connection: Redis,
    queueName: QueueName,
    private readonly options: FinishedJobReaderOptions = {},
  ) {
    if (connection.options.maxRetriesPerRequest !== null) {
      throw new QueueError('INVALID_ARGUMENT', "FinishedJobReader needs a connection created with createRedisConnection(url, { role: 'worker' }) (maxRetriesPerRequest: null).");
    }
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    assertValidPrefix(prefix);
    this.key = `${prefix}:${queueName}:events`;
    this.blockMs = options.blockMs ?? 10_000;
    this.gapCheckEntries = options.gapCheckEntries ?? 10_000;
  }

  /** True once the start is fixed: from then on the finish of every job added later is delivered. */
  get ready(): boolean {
    return this.lastId !== undefined;
  }

  /** Starts reading; resolves once `ready` (it retries while Redis is unreachable). */
  start(): Promise<void> {
    if (this.started === undefined) {
      this.started = new Promise<void>((resolve) => {
        this.markStarted = resolve;
      });
      this.loop = this.run();
    }
    return this.started;
  }

  /** Delivers the finish of `jobId` to `listener` (once; unwatch after it, or on giving up). */
  watch(jobId: string, listener: FinishedJobListener): void {
    this.watched.set(jobId, listener);
  }

  unwatch(jobId: string): void {
    this.watched.delete(jobId);
  }

  /** Blocking reads issued so far (each one XREAD round trip). */
  get reads(): number {
    return this.readCount;
  }

  /** The jobs watched now. */
  watchedJobIds(): string[] {
    return [...this.watched.keys()];
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.markStarted?.();
    this.connection.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      const lastId = this.lastId ?? (await this.newestId());
      if (lastId === undefined) continue;
      if (this.lastId === undefined) {
        this.lastId = lastId;
        this.markStarted?.();
      }
      let entries: Entries;
      try {
        entries = await this.read(lastId);
      } catch (error) {
        if (this.closing) return;
        if (!(error instanceof ReadTimedOut)) {
          this.options.onError?.(error);
          await delay(RETRY_MS);
        }
        continue;
      }
      const last = entries.at(-1);
      if (last === undefined) continue;
      if (entries.length >= this.gapCheckEntries) await this.checkGap(lastId);
      // Stream ids are ASCII digits and a dash.
      this.lastId = last[0].toString('latin1');
      for (const [, fields] of entries) if (this.watched.size > 0) this.dispatch(fields);
    }
  }

  /** The id to read on from: the newest entry now ('0-0' for an empty stream); undefined after a failure. */
  private async newestId(): Promise<string | undefined> {
    try {
      const newest = await this.connection.xrevrange(this.key, '+', '-', 'COUNT', 1);
      return newest[0]?.[0] ?? '0-0';
    } catch (error) {
      if (this.closing) return undefined;
      this.options.onError?.(error);
      await delay(RETRY_MS);
      return undefined;
    }
  }

  private async read(lastId: string): Promise<Entries> {
    this.readCount += 1;
    const xread = this.connection.xreadBuffer('BLOCK', this.blockMs, 'STREAMS', this.key, lastId) as Promise<XReadReply>;
    // An abandoned read's late rejection must not surface as unhandled.
    xread.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ReadTimedOut()), this.blockMs + WATCHDOG_MARGIN_MS);
    });
    try {
      const reply = await Promise.race([xread, watchdog]);
      return reply?.[0]?.[1] ?? [];
    } catch (error) {
      // A read left unanswered past its BLOCK: drop it with the connection (ioredis reconnects);
      // the next read starts again from the last id seen, so nothing is skipped.
      if (error instanceof ReadTimedOut && !this.closing) this.connection.disconnect(true);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async checkGap(lastId: string): Promise<void> {
    // No early out for '0-0' (an empty stream at the start): entries trimmed before the first
    // read are missed all the same.
    try {
      const oldest = (await this.connection.xrange(this.key, '-', '+', 'COUNT', 1))[0]?.[0];
      // Read after the entries: a later trim can only make this report a gap that was not one.
      if (oldest !== undefined && compareStreamIds(lastId, oldest) < 0) this.options.onGap?.({ lastId, oldestId: oldest });
    } catch (error) {
      this.options.onError?.(error);
      if (!this.closing) this.options.onGap?.({ lastId, oldestId: lastId });
    }
  }

  private dispatch(fields: readonly Buffer[]): void {
    // BullMQ writes `event <name> jobId <id>` first; a layout that differs is searched instead.
    const inOrder = isName(fields[0], EVENT) && isName(fields[2], JOB_ID);
    const name = inOrder ? fields[1] : fieldValue(fields, EVENT, 0);
    const failed = isName(name, FAILED);
    if (!failed && !isName(name, COMPLETED)) return;
    const jobId = (inOrder ? fields[3] : fieldValue(fields, JOB_ID, 0))?.toString();
    // In BullMQ's order the result follows the first two pairs; in any other it may be anywhere.
    const rest = inOrder ? 4 : 0;
    const listener = jobId === undefined ? undefined : this.watched.get(jobId);
    if (listener === undefined || jobId === undefined) return;
    this.watched.delete(jobId);
    if (failed) {
      listener.reject(new Error(fieldValue(fields, FAILED_REASON, rest)?.toString() ?? 'job failed'));
      return;
    }
    const json = fieldValue(fields, RETURN_VALUE, rest)?.toString();
    let value: unknown;
    try {
      value = json === undefined ? undefined : JSON.parse(json);
    } catch (error) {
      listener.reject(new Error(`the result of job ${jobId} is not JSON`, { cause: error }));
      return;
    }
    listener.resolve(value);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
