// createGatewayApp: the whole HTTP API as an express app, built from injected dependencies so
// tests run it without a network. The composition root (apps/issuer-gateway) adds listen/TLS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { OPERATIONS } from '@fsm-certs/api';
import { randomUuid } from '@fsm-certs/core';
import { AccessControl } from './auth/middleware.js';
import { LocalRateLimiter, TokenBucketLimiter } from './auth/rate-limit.js';
import { Authenticator } from './auth/tokens.js';
import { DEFAULT_FAILED_AUTH, DEFAULT_SSE_LIMITS, silentLogger, type GatewayDeps } from './deps.js';
import { GatewayError } from './errors.js';
import { parseByteLimit, readJsonBody } from './http/json-body.js';
import { normaliseError, problemMiddleware, sendProblem, type ErrorLogger } from './http/problem.js';
import { IssueBatcher } from './issue/batcher.js';
import { createGatewayMetrics, outcomeForStatus, type GatewayMetrics } from './metrics.js';
import { caHandlers } from './routes/ca.js';
import { rotationHandlers } from './routes/rotation.js';
import { certificateHandlers, issueHandler, type IssueRouteSteps } from './routes/certificates.js';
import { OpenStreams, eventsHandlers } from './routes/events.js';
import { EventHub } from './routes/event-hub.js';
import { systemHandlers } from './routes/system.js';
import { auditHandlers } from './routes/audit.js';
import { Auditor } from './audit/auditor.js';
import { registerOperations } from './routes/table.js';
import { UnreadableRecords } from './routes/unreadable-records.js';

export interface GatewayApp {
  readonly app: Express;
  /**
   * The request listener to serve: the issue fast lane in front of `app`. Exactly
   * `POST /v1/certificates` is answered without the express router (whose per-request setup
   * costs more CPU than the route's own work), by the same handler and body reader express runs
   * for it; every other request, including that route with a query string, is express's.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly batcher: IssueBatcher;
  readonly metrics: GatewayMetrics;
  /** Sends pending batches and waits for the ones in flight (call before closing the queue). */
  drain(): Promise<void>;
  /** Ends every open SSE stream (clients reconnect elsewhere with Last-Event-ID). */
  closeStreams(): void;
}

export function createGatewayApp(deps: GatewayDeps): GatewayApp {
  const logger = deps.logger ?? silentLogger;
  const { options } = deps;
  const metrics = createGatewayMetrics(deps.registry, {
    queueDepth: () => deps.issueClient.queueDepth(),
    inventorySize: () => deps.inventory.size(),
    rootNotAfterSeconds: async () => {
      const bundle = await deps.inventory.getTrustBundle();
      return bundle === undefined ? undefined : Math.floor(Date.parse(bundle.rootNotAfter) / 1000);
    },
    rootRotation: async () => deps.rootRotation?.status(),
  });
  const batcher = new IssueBatcher(
    deps.issueClient,
    { windowMs: options.batchWindowMs, maxItems: options.batchMax, pipelineDepth: options.batchPipelineDepth, timeoutMs: options.issueTimeoutMs, newRequestId: randomUuid },
    { onBatch: (size) => metrics.observeBatch(size) },
  );
  const failedAuth = options.failedAuth ?? DEFAULT_FAILED_AUTH;
  const access = new AccessControl({
    authenticator: deps.authenticator ?? new Authenticator(options.tokens),
    limiter: deps.rateLimiter ?? new LocalRateLimiter(deps.clock),
    defaultRatePerSec: options.rateLimitPerSec,
    failures: new TokenBucketLimiter(failedAuth.ratePerSec, deps.clock, failedAuth.burst),
  });

  const app = express();
  app.disable('x-powered-by');
  // ETags would hash every response body on the request path; certificates are never re-fetched
  // conditionally, so skip them.
  app.set('etag', false);
  app.set('query parser', 'simple');

  const limitBytes = parseByteLimit(options.bodyLimit);
  if (limitBytes === undefined) throw new Error(`bodyLimit "${options.bodyLimit}" is not a size such as 64kb or 1mb.`);
  const issueScope = OPERATIONS.issueCertificate.access;
  const issueRoute: IssueRouteSteps<IncomingMessage, ServerResponse> = {
    observe(res: ServerResponse) {
      const started = performance.now();
      // 'finish' is emitted once per response: `on` spares once()'s wrapper per request.
      res.on('finish', () => metrics.observeIssuance(outcomeForStatus(res.statusCode), (performance.now() - started) / 1000));
    },
    authorize: (req) => access.authorize(req, issueScope),
    readBody: (req) => readJsonBody(req, limitBytes),
  };
  const auditor = new Auditor(deps.audit, logger, () => deps.clock.now());
  const streams = new OpenStreams(options.sse ?? DEFAULT_SSE_LIMITS);
  const hub = new EventHub(deps.events, logger);

  registerOperations(
    app,
    { ...certificateHandlers(deps, batcher, issueRoute, new UnreadableRecords(logger, () => metrics.countUndecodableRecord()), auditor), ...caHandlers(deps), ...rotationHandlers(deps), ...auditHandlers(deps), ...eventsHandlers(deps, streams, hub), ...systemHandlers(deps) },
    { forScope: (scope) => access.middleware(scope), inline: new Set(['issueCertificate']) },
    // The issue route first: it carries nearly all the traffic.
    ['issueCertificate'],
  );

  app.use((req) => {
    throw new GatewayError('NOT_FOUND', `No route ${req.method} ${req.path}; see /openapi.json.`);
  });
  const logError: ErrorLogger = (error, context) => {
    // RECORD_UNREADABLE is logged once per record by UnreadableRecords, not once per request.
    if (error.httpStatus >= 500 && error.code !== 'RECORD_UNREADABLE') logger.error({ err: error.cause ?? error, code: error.code, ...context }, error.message);
    else logger.debug({ code: error.publicCode, status: error.httpStatus, ...context }, error.message);
  };
  app.use(problemMiddleware(logError));

  // The fast lane: the same issue handler and steps, minus the router; errors answered the way
  // problemMiddleware answers them.
  const fastIssue = issueHandler<IncomingMessage, ServerResponse>(deps, batcher, issueRoute, auditor);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'POST' && req.url === '/v1/certificates') {
      fastIssue(req, res).catch((error: unknown) => {
        const problem = normaliseError(error);
        logError(problem, { method: 'POST', path: '/v1/certificates' });
        if (res.headersSent) res.destroy();
        else sendProblem(res, problem);
      });
      return;
    }
    app(req, res);
  };

  return { app, handler, batcher, metrics, drain: () => batcher.drain(), closeStreams: () => {
      streams.closeAll();
      hub.closeAll();
    } };
}

export { normaliseError };
