// createGatewayApp: the whole HTTP API as an express app, built from injected dependencies so
// tests run it without a network. The composition root (apps/issuer-gateway) adds listen/TLS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { authenticateRequest, authorize } from './auth/middleware.js';
import { TokenBucketLimiter } from './auth/rate-limit.js';
import { Authenticator } from './auth/tokens.js';
import { silentLogger, type GatewayDeps } from './deps.js';
import { GatewayError } from './errors.js';
import { isPlainJsonRequest, parseByteLimit, readJsonBody } from './http/json-body.js';
import { normaliseError, problemMiddleware, sendProblem, type ErrorLogger } from './http/problem.js';
import { IssueBatcher } from './issue/batcher.js';
import { createGatewayMetrics, outcomeForStatus, type GatewayMetrics } from './metrics.js';
import { registerCaRoute } from './routes/ca.js';
import { issueHandler, registerCertificateRoutes, type IssueRouteSteps } from './routes/certificates.js';
import { OpenStreams, registerEventsRoute } from './routes/events.js';
import { registerSystemRoutes } from './routes/system.js';

export interface GatewayApp {
  readonly app: Express;
  /**
   * The request listener to serve: the issue fast lane in front of `app`. Exactly
   * `POST /v1/certificates` with a plain JSON body is answered without the express router (whose
   * per-request setup costs more CPU than the route's own work); every other request, including
   * that route with a query, a compressed body or another media type, is express's.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly batcher: IssueBatcher;
  readonly metrics: GatewayMetrics;
  /** Sends pending batches and waits for the ones in flight (call before closing the queue). */
  drain(): Promise<void>;
  /** Ends every open SSE stream (clients reconnect elsewhere with Last-Event-ID). */
  closeStreams(): void;
}

/** 415 for a body that is not JSON; express.json() would otherwise leave req.body undefined. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    throw new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as Content-Type: application/json.');
  }
  next();
};

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
  });
  const batcher = new IssueBatcher(
    deps.issueClient,
    { windowMs: options.batchWindowMs, maxItems: options.batchMax, pipelineDepth: options.batchPipelineDepth, timeoutMs: options.issueTimeoutMs },
    { onBatch: (size) => metrics.observeBatch(size) },
  );
  const authenticator = new Authenticator(options.tokens);
  const limiter = new TokenBucketLimiter(options.rateLimitPerSec, deps.clock);

  const app = express();
  app.disable('x-powered-by');
  // ETags would hash every response body on the request path; certificates are never re-fetched
  // conditionally, so skip them.
  app.set('etag', false);
  app.set('query parser', 'simple');

  const json = express.json({ limit: options.bodyLimit, type: 'application/json', strict: true });
  const limitBytes = parseByteLimit(options.bodyLimit);
  /** express.json() behind the 415 check, for bodies the lean reader leaves alone. */
  const readWithBodyParser = (req: Request, res: Response): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const done = (error?: unknown): void => (error === undefined ? resolve(req.body as unknown) : reject(error));
      try {
        requireJson(req, res, () => json(req, res, done));
      } catch (error) {
        reject(error);
      }
    });
  const issueRoute: IssueRouteSteps = {
    observe(res: ServerResponse) {
      const started = performance.now();
      res.once('finish', () => metrics.observeIssuance(outcomeForStatus(res.statusCode), (performance.now() - started) / 1000));
    },
    authorize: (req) => authenticateRequest(authenticator, limiter, 'issue', req),
    readBody: (req, res) => (limitBytes !== undefined && isPlainJsonRequest(req) ? readJsonBody(req, limitBytes) : readWithBodyParser(req, res)),
  };

  // The issue route first: it carries nearly all the traffic, and the router tries layers in order.
  registerCertificateRoutes(app, deps, batcher, {
    read: authorize(authenticator, limiter, 'read'),
    issue: authorize(authenticator, limiter, 'issue'),
    issueRoute,
  });
  registerSystemRoutes(app, deps);
  registerCaRoute(app, deps);
  const streams = new OpenStreams();
  registerEventsRoute(app, deps, authorize(authenticator, limiter, 'read'), streams);

  app.use((req) => {
    throw new GatewayError('NOT_FOUND', `No route ${req.method} ${req.path}; see /openapi.json.`);
  });
  const logError: ErrorLogger = (error, context) => {
    if (error.httpStatus >= 500) logger.error({ err: error.cause ?? error, code: error.code, ...context }, error.message);
    else logger.debug({ code: error.publicCode, status: error.httpStatus, ...context }, error.message);
  };
  app.use(problemMiddleware(logError));

  // The fast lane: the same issue handler and steps, minus the router; errors answered the way
  // problemMiddleware answers them.
  const fastIssue = limitBytes === undefined ? undefined : issueHandler<IncomingMessage, ServerResponse>(deps, batcher, {
    observe: issueRoute.observe,
    authorize: (req) => authenticateRequest(authenticator, limiter, 'issue', req),
    readBody: (req) => readJsonBody(req, limitBytes),
  });
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (fastIssue !== undefined && req.method === 'POST' && req.url === '/v1/certificates' && isPlainJsonRequest(req)) {
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

  return { app, handler, batcher, metrics, drain: () => batcher.drain(), closeStreams: () => streams.closeAll() };
}

export { normaliseError };
