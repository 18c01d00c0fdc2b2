// Issue results straight to the gateway that asked (issue 15: low load is not taxed). A gateway
// waiting for its jobs through BullMQ's QueueEvents reads every event of every job of the queue
// (added, active, completed... of all gateways), one blocking read and one wake-up each. With a
// reply inbox it names in the job (`replyTo`), the ca-service pushes the result to that inbox's
// list once it is known, and the gateway wakes once per result, for its own jobs only.
//
// A reply is a shortcut, never the only copy: BullMQ still stores the result on the job, which
// is where a gateway looks when no reply comes (an older ca-service, a reply lost with a
// connection). The list expires when nobody reads it (a gateway that went away).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Redis } from 'ioredis';
import { issueReplyInboxSchema, type IssueJobResult } from '../contracts/issue-job.js';
import { QueueError } from '../errors.js';
import { DEFAULT_PREFIX, keyspace, type Keyspace } from '../keys.js';
import { luaScript, runScript } from '../redis/run-script.js';

/** How long an inbox outlives its last reply when nobody reads it; default 60 s. */
export const DEFAULT_REPLY_TTL_MS = 60_000;

/** KEYS: the inbox list. ARGV: reply JSON, TTL ms. One round trip for the push and its expiry. */
const PUSH_REPLY = luaScript(`
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

const envelopeSchema = z.object({ jobId: z.string().min(1).max(256), result: z.unknown() });

export interface IssueRepliesOptions {
  readonly prefix?: string;
  readonly ttlMs?: number;
}

/** The ca-service's side: pushes a job's result to the inbox its producer named. */
export class IssueReplies {
  private readonly keys: Keyspace;
  private readonly ttl: string;

  constructor(
    private readonly redis: Redis,
    options: IssueRepliesOptions = {},
  ) {
    this.keys = keyspace(options.prefix ?? DEFAULT_PREFIX);
    this.ttl = String(options.ttlMs ?? DEFAULT_REPLY_TTL_MS);
  }

  async send(inbox: string, jobId: string, result: IssueJobResult): Promise<void> {
    if (!issueReplyInboxSchema.safeParse(inbox).success) {
      throw new QueueError('INVALID_ARGUMENT', `Reply inbox "${inbox.slice(0, 80)}" is not an inbox id; the job's producer is broken.`);
    }
    await runScript(this.redis, PUSH_REPLY, [this.keys.issueReplies(inbox)], [JSON.stringify({ jobId, result }), this.ttl]);
  }
}

export interface IssueReplyInboxOptions {
  readonly prefix?: string;
  /** This process's inbox id; a fresh random one by default (one inbox per process). */
  readonly id?: string;
  /** Called with every reply read; `result` is unvalidated (the caller checks it as it would the job's). */
  readonly onReply: (jobId: string, result: unknown) => void;
  /** A read failed (Redis down) or a reply did not parse; reading goes on. */
  readonly onError?: (error: unknown) => void;
  /** How long one blocking read waits before it is sent again, in seconds; default 5. */
  readonly blockSeconds?: number;
}

/**
 * The gateway's side: one blocking pop loop on its own connection (a blocking read must not
 * hold up the shared client), from construction until close().
 */
export class IssueReplyInbox {
  readonly id: string;
  private readonly key: string;
  private readonly reader: Redis;
  private closed = false;
  private readonly done: Promise<void>;

  constructor(
    redis: Redis,
    private readonly options: IssueReplyInboxOptions,
  ) {
    this.id = issueReplyInboxSchema.parse(options.id ?? randomUUID());
    this.key = keyspace(options.prefix ?? DEFAULT_PREFIX).issueReplies(this.id);
    this.reader = redis.duplicate({ maxRetriesPerRequest: null, connectionName: 'fsm-certs-issue-replies', lazyConnect: false });
    this.reader.on('error', () => undefined); // reconnects are retried; failures surface through reads
    this.done = this.loop();
  }

  /** Stops reading (replies still pushed expire with the list). */
  async close(): Promise<void> {
    this.closed = true;
    this.reader.disconnect();
    await this.done;
  }

  private async loop(): Promise<void> {
    const blockSeconds = this.options.blockSeconds ?? 5;
    while (!this.closed) {
      let popped: [string, string] | null;
      try {
        popped = await this.reader.brpop(this.key, blockSeconds);
      } catch (error) {
        if (this.closed) return;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (popped !== null) this.deliver(popped[1]);
    }
  }

  private deliver(json: string): void {
    let envelope: z.infer<typeof envelopeSchema>;
    try {
      envelope = envelopeSchema.parse(JSON.parse(json));
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    this.options.onReply(envelope.jobId, envelope.result);
  }
}
