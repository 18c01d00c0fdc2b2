// Fan-out of certificate announcements to any number of async-iterator subscribers (FSM's
// GetAnnouncementsChannel). Each subscriber has its own bounded buffer: a consumer that stops
// reading loses the oldest announcements instead of growing memory without limit.
export type AnnouncementKind = 'issued' | 'rotated' | 'released';

export interface Announcement {
  readonly kind: AnnouncementKind;
  readonly commonName: string;
  /** Serial of the certificate now current (released: the one dropped). */
  readonly serialNumber: string;
  /** Serial it replaced (rotated only). */
  readonly previousSerialNumber?: string;
  readonly notAfter: Date;
  readonly at: Date;
}

interface Subscriber {
  readonly buffer: Announcement[];
  wake: (() => void) | undefined;
  closed: boolean;
}

export class AnnouncementHub {
  private readonly subscribers = new Set<Subscriber>();
  private closed = false;

  constructor(private readonly bufferSize = 1000) {}

  publish(announcement: Announcement): void {
    for (const subscriber of this.subscribers) {
      subscriber.buffer.push(announcement);
      if (subscriber.buffer.length > this.bufferSize) subscriber.buffer.shift();
      subscriber.wake?.();
    }
  }

  /** Announcements published from now on, until close() or the consumer stops iterating. */
  subscribe(signal?: AbortSignal): AsyncIterable<Announcement> {
    const subscriber: Subscriber = { buffer: [], wake: undefined, closed: this.closed };
    this.subscribers.add(subscriber);
    const end = (): void => {
      subscriber.closed = true;
      this.subscribers.delete(subscriber);
      subscriber.wake?.();
    };
    signal?.addEventListener('abort', end, { once: true });
    const iterator: AsyncIterableIterator<Announcement> = {
      next: async (): Promise<IteratorResult<Announcement>> => {
        for (;;) {
          const next = subscriber.buffer.shift();
          if (next !== undefined) return { value: next, done: false };
          if (subscriber.closed) return { value: undefined, done: true };
          await new Promise<void>((resolve) => {
            subscriber.wake = resolve;
          });
          subscriber.wake = undefined;
        }
      },
      return: async (): Promise<IteratorResult<Announcement>> => {
        end();
        signal?.removeEventListener('abort', end);
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  close(): void {
    this.closed = true;
    for (const subscriber of [...this.subscribers]) {
      subscriber.closed = true;
      subscriber.wake?.();
    }
    this.subscribers.clear();
  }
}
