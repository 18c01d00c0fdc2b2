// Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI
// document. None of them reveals anything beyond what a scraper or a load balancer needs.
import { checkReadiness, readinessAnswer } from '@fsm-certs/runtime';
import type { GatewayDeps } from '../deps.js';
import { openApiDocument } from '../openapi/document.js';
import type { OperationHandlers } from './table.js';

type SystemOperation = 'healthz' | 'readyz' | 'metrics' | 'openapi';

export function systemHandlers(deps: GatewayDeps): Pick<OperationHandlers, SystemOperation> {
  const documentJson = JSON.stringify(openApiDocument);
  return {
    healthz: (_req, res) => {
      res.json({ status: 'ok' });
    },
    // The same readiness answer the other services' health servers give (libs/runtime).
    readyz: async (_req, res) => {
      const answer = readinessAnswer(await checkReadiness(deps.readiness), deps.options.retryAfterSeconds ?? 2);
      res.status(answer.status).set(answer.headers).send(answer.body);
    },
    metrics: async (_req, res) => {
      const body = await deps.registry.metrics();
      res.type(deps.registry.contentType).send(body);
    },
    openapi: (_req, res) => {
      res.type('application/json').send(documentJson);
    },
  };
}
