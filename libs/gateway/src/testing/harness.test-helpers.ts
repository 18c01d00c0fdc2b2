// Test harness: a private real Redis, the real inventory and event stream, and a fake
// IssueClient that signs with a real in-memory CA and writes to the inventory like the ca-service.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import {
  EventStream,
  Inventory,
  AuditLog,
  SharedRateLimiter,
  createRedisConnection,
  generateKek,
  sealPrivateKey,
  startRedisServer,
  type CertificateRecord,
  type IssueItem,
  type IssueItemResult,
  type KeyEncryptionKey,
  type RedisServerHandle,
  InventoryHealth,
} from '@fsm-certs/queue';
import { createRootCa, fingerprintSha256, issueLeaf, parseCsr, type RootCa } from '@fsm-certs/x509';
import { createGatewayApp, type GatewayApp } from '../app.js';
import { LeasedRateLimiter } from '../auth/leased-rate-limit.js';
import { sha256Hex, type TokenGrant } from '../auth/tokens.js';
import type { AuditStore, GatewayAppOptions, GatewayDeps, GatewayLogger } from '../deps.js';
import type { IssueBatchOptions, IssueClient } from '../issue/issue-client.js';
import { x509CsrCheck } from '../issue/csr-check.js';
import { listen } from '../service/listen.js';
import type { Clock } from '@fsm-certs/core';

export const TOKENS = {
  admin: 'admin-token-0123456789abcdef',
  bookstore: 'bookstore-token-0123456789ab',
  reader: 'reader-token-0123456789abcdef',
  anyName: 'any-name-issuer-token-012345',
} as const;

export const GRANTS: TokenGrant[] = [
  { name: 'admin', sha256: sha256Hex(TOKENS.admin), scopes: ['admin'], names: [] },
  { name: 'bookstore', sha256: sha256Hex(TOKENS.bookstore), scopes: ['issue', 'read'], names: ['*.bookstore.cluster.local'] },
  // A monitoring token: reads every certificate because its patterns cover every name (`*`); with
  // `names: []` it would see none (see docs/http-api.md, "Which certificates a token sees").
  { name: 'reader', sha256: sha256Hex(TOKENS.reader), scopes: ['read'], names: ['*'] },
  { name: 'any', sha256: sha256Hex(TOKENS.anyName), scopes: ['issue'], names: ['*'] },
];

export class ManualClock implements Clock {
  constructor(public ms = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

type Behaviour = (item: IssueItem) => IssueItemResult | undefined;

/** Signs like the ca-service would (real certificates), stores into the inventory, records batches. */
export class FakeIssueClient implements IssueClient {
  readonly batches: IssueItem[][] = [];
  /** Set to make issueBatch throw (e.g. a GatewayError 503 / 504). */
  failWith: unknown;
  /** Per-item override: return a result to use instead of issuing. */
  behaviour: Behaviour | undefined;
  depth = 0;
  /** While held, batches wait for the release (so concurrent requests pile up, in flight). */
  private held: Promise<void> | undefined;
  private readonly itemWaiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    private readonly ca: RootCa,
    private readonly inventory: Inventory,
    private readonly kek: KeyEncryptionKey,
  ) {}

  /** Holds every batch (sent now or later) until the returned release is called. */
  hold(): () => void {
    let release: () => void = () => undefined;
    this.held = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.held = undefined;
      release();
    };
  }

  /** Resolves once batches holding `count` items in all have been sent. */
  whenItems(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.itemWaiters.push({ count, resolve });
      this.notifyItems();
    });
  }

  private notifyItems(): void {
    const items = this.batches.reduce((n, b) => n + b.length, 0);
    for (const waiter of this.itemWaiters.filter((w) => w.count <= items)) {
      this.itemWaiters.splice(this.itemWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  async issueBatch(items: readonly IssueItem[], _options: IssueBatchOptions): Promise<readonly IssueItemResult[]> {
    this.batches.push([...items]);
    this.notifyItems();
    if (this.held !== undefined) await this.held;
    if (this.failWith !== undefined) throw this.failWith;
    const results: IssueItemResult[] = [];
    for (const item of items) {
      const override = this.behaviour?.(item);
      results.push(override ?? { requestId: item.requestId, ok: true, certificate: await this.issue(item) });
    }
    return results;
  }

  async issue(item: IssueItem): Promise<CertificateRecord> {
    const publicKey = item.csrPem === undefined ? undefined : parseCsr(item.csrPem).publicKey;
    const leaf = issueLeaf(this.ca.issuer, {
      commonName: item.commonName,
      dnsNames: item.dnsNames,
      uris: item.uris,
      ipAddresses: item.ipAddresses,
      validityMs: item.validityMs,
      keyAlgorithm: item.keyAlgorithm,
      ...(publicKey === undefined ? {} : { publicKey }),
    });
    const lifetime = leaf.notAfter.getTime() - leaf.notBefore.getTime();
    const record: CertificateRecord = {
      commonName: item.commonName,
      serialNumber: leaf.serialNumber,
      notBefore: leaf.notBefore.toISOString(),
      notAfter: leaf.notAfter.toISOString(),
      renewAt: new Date(leaf.notBefore.getTime() + (lifetime * 2) / 3).toISOString(),
      certificatePem: leaf.certificatePem,
      chainPem: [],
      issuingCaPem: this.ca.certificatePem,
      trustedCasPem: [this.ca.certificatePem],
      issuerId: fingerprintSha256(this.ca.certificatePem),
      provider: 'tresor',
      keyAlgorithm: item.keyAlgorithm,
      mode: item.csrPem === undefined ? 'server-key' : 'csr',
      dnsNames: [item.commonName, ...item.dnsNames],
      uris: item.uris,
      ipAddresses: item.ipAddresses,
      validityMs: item.validityMs,
      issuedAt: new Date().toISOString(),
      warnings: [],
      ...(item.csrPem === undefined ? {} : { csrPem: item.csrPem }),
      ...(leaf.privateKeyPem === undefined
        ? {}
        : { encryptedPrivateKey: sealPrivateKey(this.kek, leaf.privateKeyPem, item.commonName, leaf.serialNumber) }),
    };
    await this.inventory.put(record, { requestIds: [item.requestId] });
    return (await this.inventory.get(item.commonName)) ?? record;
  }

  async queueDepth(): Promise<number> {
    return this.depth;
  }

  async close(): Promise<void> {}
}

export interface SharedRedis {
  readonly server: RedisServerHandle;
  readonly redis: Redis;
  readonly ca: RootCa;
  close(): Promise<void>;
}

export async function startSharedRedis(): Promise<SharedRedis> {
  const server = await startRedisServer({ appendOnly: false });
  const redis = createRedisConnection(server.url, { role: 'client' });
  const ca = createRootCa();
  return {
    server,
    redis,
    ca,
    async close() {
      redis.disconnect();
      await server.stop();
    },
  };
}

export interface Harness {
  readonly gateway: GatewayApp;
  readonly baseUrl: string;
  readonly inventory: Inventory;
  readonly events: EventStream;
  readonly issueClient: FakeIssueClient;
  readonly clock: ManualClock;
  readonly kek: KeyEncryptionKey;
  readonly registry: Registry;
  readonly prefix: string;
  /** Resolves once the batcher has been handed `count` issue requests in all (the HTTP requests reached it). */
  submitted(count: number): Promise<void>;
  /** fetch with a bearer token (or none when token is undefined). */
  call(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(
  shared: Pick<SharedRedis, 'redis' | 'ca'>,
  overrides: {
    options?: Partial<GatewayAppOptions>;
    readiness?: GatewayDeps['readiness'];
    logger?: GatewayLogger;
    /** Key prefix; another harness given the same one acts as a second replica. */
    prefix?: string;
    /** Share callers' rates in this Redis, in leases (as production does), instead of in the process. */
    sharedRateLimit?: boolean;
    authenticator?: GatewayDeps['authenticator'];
    /** Wraps the audit trail the gateway writes (e.g. to watch or fail its writes). */
    audit?: (trail: AuditLog) => AuditStore;
    /** Called with every request before the gateway handles it (e.g. to watch when it answers). */
    observe?: (req: IncomingMessage, res: ServerResponse) => void;
  } = {},
): Promise<Harness> {
  const prefix = overrides.prefix ?? `{gw-${randomBytes(6).toString('hex')}}`;
  const inventory = new Inventory(shared.redis, { prefix });
  const events = new EventStream(shared.redis, { prefix });
  const { kek } = generateKek();
  const issueClient = new FakeIssueClient(shared.ca, inventory, kek);
  const clock = new ManualClock();
  const registry = new Registry();
  const options: GatewayAppOptions = {
    tokens: GRANTS,
    rateLimitPerSec: 1000,
    bodyLimit: '64kb',
    issueTimeoutMs: 5_000,
    batchWindowMs: 2,
    batchMax: 64,
    batchPipelineDepth: 2,
    defaultValidityMs: 24 * 3600 * 1000,
    trustDomain: 'cluster.local',
    sseHeartbeatMs: 200,
    ...overrides.options,
  };
  const gateway = createGatewayApp({
    options,
    inventory,
    inventoryHealth: new InventoryHealth(shared.redis, { prefix }),
    events,
    issueClient,
    kek,
    csrCheck: x509CsrCheck,
    clock,
    registry,
    readiness: overrides.readiness ?? { redis: async () => void (await shared.redis.ping()) },
    audit: (overrides.audit ?? ((trail: AuditLog): AuditStore => trail))(new AuditLog(shared.redis, { prefix, retentionMs: 30 * 24 * 3600_000, now: () => clock.now() })),
    ...(overrides.sharedRateLimit === true ? { rateLimiter: new LeasedRateLimiter(new SharedRateLimiter(shared.redis, { prefix }), clock) } : {}),
    ...(overrides.authenticator === undefined ? {} : { authenticator: overrides.authenticator }),
    ...(overrides.logger !== undefined
      ? { logger: overrides.logger }
      : process.env['GW_TEST_LOG']
        ? { logger: { debug: console.log, info: console.log, warn: console.log, error: console.log } }
        : {}),
  });
  // Counts what reaches the batcher, so a test can wait for concurrent requests to have arrived.
  let submissions = 0;
  const submissionWaiters: Array<{ count: number; resolve: () => void }> = [];
  const submit = gateway.batcher.submit.bind(gateway.batcher);
  gateway.batcher.submit = (request) => {
    submissions += 1;
    for (const waiter of submissionWaiters.filter((w) => w.count <= submissions)) {
      submissionWaiters.splice(submissionWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return submit(request);
  };
  // The listener the service serves (issue fast lane in front of express), bound as the service
  // binds it: with Node's default 5 s keep-alive, a test client sharing this event loop could
  // reuse a pooled connection the server was closing when the loop lagged (ECONNRESET).
  const { observe } = overrides;
  const listener = observe === undefined ? gateway.handler : (req: IncomingMessage, res: ServerResponse): void => {
    observe(req, res);
    gateway.handler(req, res);
  };
  const server = await listen(listener, { host: '127.0.0.1', port: 0 });
  const baseUrl = server.url;
  return {
    gateway,
    baseUrl,
    inventory,
    events,
    issueClient,
    clock,
    kek,
    registry,
    prefix,
    submitted(count) {
      return count <= submissions ? Promise.resolve() : new Promise((resolve) => submissionWaiters.push({ count, resolve }));
    },
    call(method, path, { token, body, headers = {} } = {}) {
      const all: Record<string, string> = { ...headers };
      if (token !== undefined) all['authorization'] = `Bearer ${token}`;
      if (body !== undefined && all['content-type'] === undefined) all['content-type'] = 'application/json';
      return fetch(baseUrl + path, {
        method,
        headers: all,
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    },
    async close() {
      await server.close(AbortSignal.abort());
      await gateway.drain();
    },
  };
}

export type HarnessOverrides = Parameters<typeof startHarness>[1];

/** What a test file sees through harnessPerTest(): this test's harness and the file's Redis. */
export interface HarnessContext {
  /** The harness of the running test. */
  readonly h: Harness;
  /** One Redis server and CA for the whole file. */
  readonly shared: SharedRedis;
  /** Replaces this test's harness by one with other options (closed after the test like the first). */
  restart(overrides: HarnessOverrides): Promise<Harness>;
}

/**
 * Registers a file's hooks: one Redis for the file (beforeAll/afterAll) and a fresh gateway
 * harness per test (beforeEach/afterEach). Call once at the top level of a test file.
 */
export function harnessPerTest(): HarnessContext {
  let shared: SharedRedis | undefined;
  let current: Harness | undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is only there inside a test of this file`);
    return value;
  };
  beforeAll(async () => {
    shared = await startSharedRedis();
  });
  afterAll(async () => {
    await shared?.close();
  });
  beforeEach(async () => {
    current = await startHarness(need(shared, 'the shared Redis'));
  });
  afterEach(async () => {
    await current?.close();
  });
  return {
    get h() {
      return need(current, 'the harness');
    },
    get shared() {
      return need(shared, 'the shared Redis');
    },
    async restart(overrides) {
      await current?.close();
      current = await startHarness(need(shared, 'the shared Redis'), overrides);
      return current;
    },
  };
}

/** A logger that keeps what it was given, to assert on what an operator would see. */
export class RecordingLogger implements GatewayLogger {
  readonly entries: Array<{ level: 'debug' | 'info' | 'warn' | 'error'; obj: object; msg: string | undefined }> = [];
  debug(obj: object, msg?: string): void {
    this.entries.push({ level: 'debug', obj, msg });
  }
  info(obj: object, msg?: string): void {
    this.entries.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj, msg });
  }
  /** Entries at warn or error, or carrying an error object (whose stack a real logger prints). */
  alarming(): typeof this.entries {
    return this.entries.filter((e) => e.level === 'warn' || e.level === 'error' || 'err' in e.obj);
  }
}

export interface ProblemJson {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

export async function problemOf(res: Response): Promise<ProblemJson> {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as ProblemJson;
}
