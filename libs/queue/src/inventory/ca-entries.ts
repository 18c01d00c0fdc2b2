// The CA entries records refer to, as a reader sees them: content-addressed (the key is the
// digest of the content, checked on load), so once loaded an entry never changes and is kept in
// memory. A process meets a handful of them (one per issuing CA and trust bundle it has seen), so
// a lookup costs a round trip only the first time.
import type { Redis } from 'ioredis';
import type { Keyspace } from '../keys.js';
import { decodeCa, type CaPems } from './record-codec.js';

/** Far above the distinct CA sets a deployment meets (a few per root rotation); bounds memory. */
const MAX_KNOWN = 256;

export class CaEntries {
  private readonly known = new Map<string, CaPems>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
  ) {}

  /** Loads, in one round trip, the entries of these digests not yet known. */
  async load(digests: Iterable<string | null>): Promise<void> {
    const missing = new Set<string>();
    for (const digest of digests) if (digest !== null && !this.known.has(digest)) missing.add(digest);
    if (missing.size === 0) return;
    const wanted = [...missing];
    const values = await this.redis.mget(...wanted.map((digest) => this.keys.caEntry(digest)));
    if (this.known.size + wanted.length > MAX_KNOWN) this.known.clear();
    wanted.forEach((digest, i) => {
      const value = values[i];
      const pems = typeof value === 'string' ? decodeCa(digest, value) : undefined;
      if (pems !== undefined) this.known.set(digest, pems);
    });
  }

  /** A loaded entry; undefined when it is missing or damaged in Redis (the record is then unreadable). */
  readonly of = (digest: string): CaPems | undefined => this.known.get(digest);
}
