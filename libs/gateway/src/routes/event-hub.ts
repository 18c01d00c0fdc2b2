// One blocking Redis reader per gateway for every SSE subscriber: the hub follows the stream
// from "now" and fans each event out to the subscriptions that joined. A subscriber resuming
// from Last-Event-ID joins first (so nothing published from then on is missed), catches up with
// non-blocking reads on the shared connection, then follows the hub, skipping what it already
// sent. The reader runs while anyone listens. A subscriber that falls too far behind is ended
// (its client reconnects with Last-Event-ID) instead of buffering without bound.
import type { StreamGap, StreamedEvent } from '@fsm-certs/queue';
import type { EventPort, GatewayLogger } from '../deps.js';

export type HubMessage = { readonly kind: 'event'; readonly event: StreamedEvent } | { readonly kind: 'gap'; readonly gap: StreamGap };

/** Messages a subscription holds before it is considered stuck and ended. */
const MAX_QUEUED = 1_000;

export class HubSubscription implements AsyncIterable<HubMessage> {
  private readonly queue: HubMessage[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  /** True when it was ended for falling behind. */
  overflowed = false;

  constructor(private readonly onClose: (s: HubSubscription) => void) {}

  push(message: HubMessage): void {
    if (this.ended) return;
    if (this.queue.length >= MAX_QUEUED) {
      this.overflowed = true;
      this.close();
      return;
    }
    this.queue.push(message);
    this.wake?.();
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.onClose(this);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<HubMessage> {
    for (;;) {
      const next = this.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

interface Reader {
  readonly controller: AbortController;
  readonly ready: Promise<void>;
}

export class EventHub {
  private readonly subscriptions = new Set<HubSubscription>();
  private reader: Reader | undefined;

  constructor(
    private readonly events: EventPort,
    private readonly logger: GatewayLogger,
  ) {}

  get size(): number {
    return this.subscriptions.size;
  }

  /** A subscription that receives every event the hub reads from now on (after this resolves). */
  async join(): Promise<HubSubscription> {
    const subscription = new HubSubscription((s) => this.leave(s));
    this.subscriptions.add(subscription);
    await this.start().ready;
    return subscription;
  }

  /** Ends every subscription and the reader (shutdown). */
  closeAll(): void {
    for (const s of [...this.subscriptions]) s.close();
    this.stop();
  }

  private leave(subscription: HubSubscription): void {
    this.subscriptions.delete(subscription);
    if (this.subscriptions.size === 0) this.stop();
  }

  private stop(): void {
    this.reader?.controller.abort();
    this.reader = undefined;
  }

  private start(): Reader {
    if (this.reader !== undefined) return this.reader;
    const controller = new AbortController();
    let subscribed: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      subscribed = resolve;
      controller.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const reader: Reader = { controller, ready };
    this.reader = reader;
    void this.run(controller.signal, subscribed);
    return reader;
  }

  private async run(signal: AbortSignal, subscribed: () => void): Promise<void> {
    try {
      const stream = this.events.subscribe({
        signal,
        onSubscribed: subscribed,
        onGap: (gap) => {
          this.logger.info({ lastEventId: gap.lastEventId, oldestId: gap.oldestId }, 'event hub missed trimmed events; subscribers get a reset');
          for (const s of this.subscriptions) s.push({ kind: 'gap', gap });
        },
        onError: (error) => this.logger.warn({ err: error }, 'event stream read failed; retrying'),
      });
      for await (const event of stream) {
        if (signal.aborted) break;
        for (const s of this.subscriptions) s.push({ kind: 'event', event });
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'event hub reader ended');
    } finally {
      subscribed();
      // A reader that ended on its own (not stopped) leaves its subscribers to reconnect.
      if (!signal.aborted) {
        this.reader = undefined;
        for (const s of [...this.subscriptions]) s.close();
      }
    }
  }
}
