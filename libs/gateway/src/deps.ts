// What createGatewayApp needs. Everything that crosses a process boundary is an interface or a
// narrow slice of a libs/queue class, so tests can run the HTTP semantics without a network.
import type { AuditLog, EventStream, Inventory, InventoryHealth, KeyEncryptionKey } from '@fsm-certs/queue';
import type { Registry } from 'prom-client';
import type { TokenGrant } from './auth/tokens.js';
import type { CallerAuthenticator } from './auth/middleware.js';
import type { RateLimiter } from './auth/rate-limit.js';
import type { CsrCheck } from './issue/issue-request.js';
import type { IssueClient } from './issue/issue-client.js';
import type { RootRotationPort } from './rotation/root-rotation-port.js';
import type { Clock } from '@fsm-certs/core';

export type InventoryPort = Pick<Inventory, 'get' | 'deleteSerial' | 'list' | 'size' | 'getTrustBundle'>;
/** The inventory's overdue index and unreadable-record scan (GET /v1/certificates?overdue=true, ?unreadable=true). */
export type InventoryHealthPort = Pick<InventoryHealth, 'overdue' | 'unreadable'>;
export type AuditStore = Pick<AuditLog, 'appendMany' | 'query'>;
export type EventPort = Pick<EventStream, 'publish' | 'subscribe' | 'readAfter'>;

/** One named readiness check; throws (or rejects) when not ready. */
export type ReadinessCheck = () => Promise<void>;

/** Minimal structured logger (pino's signature subset). */
export interface GatewayLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /**
   * Whether a line at this level would be written (pino's isLevelEnabled). Lets the hot route
   * skip building a line nobody will see; a logger without it is taken to write every level.
   */
  isLevelEnabled?(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
}

export const silentLogger: GatewayLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, isLevelEnabled: () => false };

export interface GatewayAppOptions {
  readonly tokens: readonly TokenGrant[];
  /** Requests per second per token; burst is twice that. */
  readonly rateLimitPerSec: number;
  /** express body limit, e.g. '64kb'. */
  readonly bodyLimit: string;
  readonly issueTimeoutMs: number;
  readonly batchWindowMs: number;
  readonly batchMax: number;
  /** Jobs the batcher aims to keep in flight under steady demand (see IssueBatcher). */
  readonly batchPipelineDepth: number;
  /** Default validity when a request names none (config serviceCertValidityDuration). */
  readonly defaultValidityMs: number;
  readonly trustDomain: string;
  /** SSE keep-alive comment period; default 15 s. */
  readonly sseHeartbeatMs?: number;
  /** Retry-After sent with 503; default 2 s. */
  readonly retryAfterSeconds?: number;
  /** Failed authentications allowed per client address; default 1/s, burst 10. */
  readonly failedAuth?: { readonly ratePerSec: number; readonly burst: number };
  /** SSE subscribers: per caller and in all; default 20 and 1000. */
  readonly sse?: { readonly maxStreamsPerCaller: number; readonly maxStreams: number };
}

export const DEFAULT_FAILED_AUTH = { ratePerSec: 1, burst: 10 } as const;
export const DEFAULT_SSE_LIMITS = { maxStreamsPerCaller: 20, maxStreams: 1000 } as const;

export interface GatewayDeps {
  readonly options: GatewayAppOptions;
  readonly inventory: InventoryPort;
  /** Without it ?overdue=true and ?unreadable=true answer 503. */
  readonly inventoryHealth?: InventoryHealthPort;
  readonly events: EventPort;
  readonly issueClient: IssueClient;
  readonly kek: KeyEncryptionKey;
  readonly csrCheck: CsrCheck;
  readonly clock: Clock;
  readonly registry: Registry;
  /** The staged root rotation (GET/POST /v1/ca/rotation); without it those routes answer 503. */
  readonly rootRotation?: RootRotationPort;
  /** Named checks for /readyz (e.g. redis, queue, ca-service heartbeat). */
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  readonly logger?: GatewayLogger;
  /** Who presents a bearer token; default: the configured tokens only. */
  readonly authenticator?: CallerAuthenticator;
  /** The audit trail; without it decisions are only logged (and GET /v1/audit answers 503). */
  readonly audit?: AuditStore;
  /** Per-caller rate; default in-process (RedisRateLimiter shares it across replicas). */
  readonly rateLimiter?: RateLimiter;
}
