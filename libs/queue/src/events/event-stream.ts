// Announcements on a bounded Redis Stream. publish() appends; subscribe() is an async iterator
// on its own connection (XREAD BLOCK would stall every other command sharing one), resuming
// from any id (SSE Last-Event-ID) and riding out a Redis restart from the last id it saw.
// The stream is trimmed (XADD MAXLEN ~), so a reader resuming from an id older than what is kept,
// or falling that far behind, would skip events without knowing: every read checks the oldest
// kept id in the same MULTI and reports such a gap before delivering what follows it.
import type { Redis } from 'ioredis';
import { certEventSchema, type CertEvent } from '../contracts/events.js';
import { QueueError } from '../errors.js';
import { DEFAULT_PREFIX, keyspace } from '../keys.js';

export interface EventStreamOptions {
  readonly prefix?: string;
  /** Approximate cap on retained events (XADD MAXLEN ~); default 10 000. */
  readonly maxLength?: number;
}

/**
 * Events after `lastEventId` were trimmed from the stream before this reader got them; delivery
 * goes on with `oldestId`. The reader should re-read the state it follows (the inventory).
 * Reported at most once per gap; when `lastEventId` itself was the last entry trimmed, nothing
 * was lost after all, which the stream cannot tell apart — re-reading is always safe.
 */
export interface StreamGap {
  readonly reason: 'trimmed';
  /** The id the reader asked to resume after, or the last it was given. */
  readonly lastEventId: string;
  /** The oldest event the stream still holds: the next one delivered. */
  readonly oldestId: string;
}

export interface SubscribeOptions {
  /** '$' (default) = only events published after subscribing; '0' = from the oldest kept; or an id to resume after. */
  readonly fromId?: string;
  readonly signal?: AbortSignal;
  /** How long one blocking wait for new events lasts; default 5000 ms. Bounds how long a dead reader lingers. */
  readonly blockMs?: number;
  /**
   * Called once the start is fixed: every event published from then on will be delivered. For
   * '$' that is after the newest id was read, so a caller can publish (or tell its client to)
   * without racing the subscription.
   */
  readonly onSubscribed?: () => void;
  /** Called when events were trimmed before they could be delivered, before the next one is yielded. */
  readonly onGap?: (gap: StreamGap) => void;
  /** Called for entries that do not parse (e.g. a kind from a newer version); they are skipped. */
  readonly onInvalid?: (id: string, error: unknown) => void;
  /** Called when a read fails (Redis down); the subscriber retries from the last id seen. */
  readonly onError?: (error: unknown) => void;
}

export interface StreamedEvent {
  readonly id: string;
  readonly event: CertEvent;
}

/** The stream entry field holding the event JSON (writers outside this class use it too). */
export const EVENT_FIELD = 'event';
const FIELD = EVENT_FIELD;
/** Default approximate cap on retained events. */
export const DEFAULT_EVENT_STREAM_MAX_LENGTH = 10_000;
const STREAM_ID = /^\d+-\d+$|^\d+$/;

/** Entries read per round trip. */
const READ_COUNT = 100;

type Entries = Array<[string, string[]]>;
type XReadReply = Array<[string, Entries]> | null;

/** Orders two stream ids (`<ms>-<seq>`, or `<ms>` meaning `<ms>-0`). */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map((part) => BigInt(part));
  const [bMs = 0n, bSeq = 0n] = b.split('-').map((part) => BigInt(part));
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

/** The ids that mean "everything the stream holds" rather than "resume after this event". */
function isStreamStart(id: string): boolean {
  return compareStreamIds(id, '0-0') === 0;
}

/** Validates an event and serialises it for the stream's entry field. */
export function encodeEvent(event: CertEvent): string {
  const parsed = certEventSchema.safeParse(event);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new QueueError('INVALID_ARGUMENT', `Event rejected: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}.`, {
      cause: parsed.error,
    });
  }
  return JSON.stringify(parsed.data);
}

export class EventStream {
  readonly key: string;
  private readonly maxLength: number;

  constructor(
    private readonly redis: Redis,
    options: EventStreamOptions = {},
  ) {
    this.key = keyspace(options.prefix ?? DEFAULT_PREFIX).events;
    this.maxLength = options.maxLength ?? DEFAULT_EVENT_STREAM_MAX_LENGTH;
  }

  /** Validates and appends an event; returns its stream id (use it as the SSE id). */
  async publish(event: CertEvent): Promise<string> {
    const id = await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLength), '*', FIELD, encodeEvent(event));
    if (id === null) throw new QueueError('REDIS_UNAVAILABLE', 'XADD returned no id; retry the publish.');
    return id;
  }

  /**
   * Id of the oldest retained event (undefined when empty). A client resuming from an id older
   * than this has missed trimmed events and should re-read the inventory.
   */
  async oldestId(): Promise<string | undefined> {
    return oldestOf(await this.redis.xrange(this.key, '-', '+', 'COUNT', 1));
  }

  /** The gap a reader resuming after lastEventId would meet now, if any (see StreamGap). */
  async gapAfter(lastEventId: string): Promise<StreamGap | undefined> {
    return gapBetween(lastEventId, await this.oldestId());
  }

  /** Number of events currently retained. */
  async length(): Promise<number> {
    return this.redis.xlen(this.key);
  }

  /**
   * Up to `count` events after `lastId`, read without blocking on the shared connection, and
   * the gap before them if events after `lastId` were trimmed. Lets one blocking reader serve
   * many subscribers: each catches up with this, then follows the shared one.
   */
  async readAfter(lastId: string, count = READ_COUNT): Promise<{ events: StreamedEvent[]; gap: StreamGap | undefined; lastId: string | undefined }> {
    if (!STREAM_ID.test(lastId)) throw new QueueError('INVALID_ARGUMENT', `lastId must be a stream id like 1700000000000-0; got "${lastId}".`);
    const { oldestId, entries } = await this.readChecked(this.redis, lastId, count);
    const events: StreamedEvent[] = [];
    for (const [id, fields] of entries) {
      const event = decodeEntry(id, fields, undefined);
      if (event !== undefined) events.push({ id, event });
    }
    const gap = entries.length === 0 ? undefined : gapBetween(lastId, oldestId);
    return { events, gap, lastId: entries.at(-1)?.[0] };
  }

  subscribe(options: SubscribeOptions = {}): AsyncIterableIterator<StreamedEvent> {
    const fromId = options.fromId ?? '$';
    if (fromId !== '$' && !STREAM_ID.test(fromId)) {
      throw new QueueError('INVALID_ARGUMENT', `fromId must be '$', '0' or a stream id like 1700000000000-0; got "${fromId}".`);
    }
    return this.iterate(fromId, options);
  }

  private async *iterate(fromId: string, options: SubscribeOptions): AsyncGenerator<StreamedEvent, void, undefined> {
    const { signal } = options;
    if (signal?.aborted) return;
    // Dedicated connection: blocking reads must not hold up the shared client, and it waits out
    // outages (no per-command retry limit).
    const reader = this.redis.duplicate({ maxRetriesPerRequest: null, connectionName: 'fsm-certs-events', lazyConnect: false });
    reader.on('error', () => undefined); // reconnects are handled by retryStrategy; errors surface through reads
    const onAbort = (): void => reader.disconnect();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let lastId = fromId === '$' ? await this.lastIdOrZero(reader, options) : fromId;
      // Asking for everything kept (or subscribing to an empty stream) cannot miss anything until
      // the first delivery; from then on lastId is a real entry and gaps after it count.
      let checkGaps = !isStreamStart(lastId);
      options.onSubscribed?.();
      let caughtUp = false;
      while (!signal?.aborted) {
        let batch: { oldestId: string | undefined; entries: Entries };
        try {
          // While caught up, wait for something newer first; the read itself always goes through
          // the MULTI below, so it is checked against the oldest kept id at the same instant.
          if (caughtUp) await reader.xread('COUNT', 1, 'BLOCK', options.blockMs ?? 5_000, 'STREAMS', this.key, lastId);
          batch = await this.readChecked(reader, lastId);
        } catch (error) {
          if (signal?.aborted) return;
          options.onError?.(error);
          await delay(200, signal);
          continue;
        }
        caughtUp = batch.entries.length < READ_COUNT;
        if (batch.entries.length === 0) continue;
        const gap = checkGaps ? gapBetween(lastId, batch.oldestId) : undefined;
        if (gap !== undefined) options.onGap?.(gap);
        checkGaps = true;
        for (const [id, fields] of batch.entries) {
          lastId = id;
          const event = decodeEntry(id, fields, options.onInvalid);
          if (event !== undefined) yield { id, event };
          if (signal?.aborted) return;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      reader.disconnect();
    }
  }

  /** The entries after lastId and the oldest kept id, read atomically (MULTI). */
  private async readChecked(reader: Redis, lastId: string, count = READ_COUNT): Promise<{ oldestId: string | undefined; entries: Entries }> {
    const replies = await reader.multi().xrange(this.key, '-', '+', 'COUNT', 1).xread('COUNT', count, 'STREAMS', this.key, lastId).exec();
    if (replies === null) throw new QueueError('REDIS_UNAVAILABLE', 'The event stream read was aborted; retrying.');
    const [[oldestError, oldest] = [null, []], [readError, read] = [null, null]] = replies;
    if (oldestError) throw oldestError;
    if (readError) throw readError;
    const entries = ((read as XReadReply) ?? []).flatMap(([, streamEntries]) => streamEntries);
    return { oldestId: oldestOf(oldest as Entries), entries };
  }

  /** Resolves '$' once, so events published between two blocking reads are not missed. */
  private async lastIdOrZero(reader: Redis, options: SubscribeOptions): Promise<string> {
    for (;;) {
      try {
        const last = await reader.xrevrange(this.key, '+', '-', 'COUNT', 1);
        return last[0]?.[0] ?? '0-0';
      } catch (error) {
        if (options.signal?.aborted) return '0-0';
        options.onError?.(error);
        await delay(200, options.signal);
      }
    }
  }
}

function oldestOf(entries: Entries): string | undefined {
  return entries[0]?.[0];
}

function gapBetween(lastEventId: string, oldestId: string | undefined): StreamGap | undefined {
  if (oldestId === undefined || isStreamStart(lastEventId)) return undefined;
  return compareStreamIds(lastEventId, oldestId) < 0 ? { reason: 'trimmed', lastEventId, oldestId } : undefined;
}

function decodeEntry(id: string, fields: string[], onInvalid: SubscribeOptions['onInvalid']): CertEvent | undefined {
  const index = fields.indexOf(FIELD);
  const json = index >= 0 && index % 2 === 0 ? fields[index + 1] : undefined;
  try {
    if (json === undefined) throw new Error(`entry has no "${FIELD}" field`);
    return certEventSchema.parse(JSON.parse(json));
  } catch (error) {
    onInvalid?.(id, error);
    return undefined;
  }
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
