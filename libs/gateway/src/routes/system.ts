// Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI
// document. None of them reveals anything beyond what a scraper or a load balancer needs.
import type { Express } from 'express';
import { checkReadiness, readinessAnswer } from '@fsm-certs/runtime';
import type { GatewayDeps } from '../deps.js';
import { openApiDocument } from '../openapi/document.js';

export function registerSystemRoutes(app: Express, deps: GatewayDeps): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // The same readiness answer the other services' health servers give (libs/runtime).
  app.get('/readyz', async (_req, res) => {
    const answer = readinessAnswer(await checkReadiness(deps.readiness), deps.options.retryAfterSeconds ?? 2);
    res.status(answer.status).set(answer.headers).send(answer.body);
  });

  app.get('/metrics', async (_req, res) => {
    const body = await deps.registry.metrics();
    res.type(deps.registry.contentType).send(body);
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
}
