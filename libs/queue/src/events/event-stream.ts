// Announcements on a bounded Redis Stream. publish() appends; subscribe() is an async iterator
// on its own connection (XREAD BLOCK would stall every other command sharing one), resuming
// from any id (SSE Last-Event-ID) and riding out a Redis restart from the last id it saw.
import type { Redis } from 'ioredis';
import { certEventSchema, type CertEvent } from '../contracts/events.js';
import { QueueError } from '../errors.js';
import { DEFAULT_PREFIX, keyspace } from '../keys.js';

export interface EventStreamOptions {
  readonly prefix?: string;
  /** Approximate cap on retained events (XADD MAXLEN ~); default 10 000. */
  readonly maxLength?: number;
}

export interface SubscribeOptions {
  /** '$' (default) = only events published after subscribing; '0' = from the oldest kept; or an id to resume after. */
  readonly fromId?: string;
  readonly signal?: AbortSignal;
  /** XREAD BLOCK time per round trip; default 5000 ms. Bounds how long a dead reader lingers. */
  readonly blockMs?: number;
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

type XReadReply = Array<[string, Array<[string, string[]]>]> | null;

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
    const parsed = certEventSchema.safeParse(event);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new QueueError('INVALID_ARGUMENT', `Event rejected: ${first ? `${first.path.join('.')}: ${first.message}` : 'invalid'}.`, {
        cause: parsed.error,
      });
    }
    const id = await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLength), '*', FIELD, JSON.stringify(parsed.data));
    if (id === null) throw new QueueError('REDIS_UNAVAILABLE', 'XADD returned no id; retry the publish.');
    return id;
  }

  /**
   * Id of the oldest retained event (undefined when empty). A client resuming from an id older
   * than this has missed trimmed events and should re-read the inventory.
   */
  async oldestId(): Promise<string | undefined> {
    const first = await this.redis.xrange(this.key, '-', '+', 'COUNT', 1);
    return first[0]?.[0];
  }

  /** Number of events currently retained. */
  async length(): Promise<number> {
    return this.redis.xlen(this.key);
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
      while (!signal?.aborted) {
        let reply: XReadReply;
        try {
          reply = (await reader.xread('COUNT', 100, 'BLOCK', options.blockMs ?? 5_000, 'STREAMS', this.key, lastId)) as XReadReply;
        } catch (error) {
          if (signal?.aborted) return;
          options.onError?.(error);
          await delay(200, signal);
          continue;
        }
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            const event = decodeEntry(id, fields, options.onInvalid);
            if (event !== undefined) yield { id, event };
            if (signal?.aborted) return;
          }
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      reader.disconnect();
    }
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
