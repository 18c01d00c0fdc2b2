// Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI
// document. None of them reveals anything beyond what a scraper or a load balancer needs.
import { PROBLEM_CODES } from '@fsm-certs/api';
import type { GatewayDeps } from '../deps.js';
import { PROBLEM_CONTENT_TYPE, problemType } from '../http/problem.js';
import { openApiDocument } from '../openapi/document.js';
import type { OperationHandlers } from './table.js';

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : 'failed';
  } finally {
    clearTimeout(timer);
  }
}

type SystemOperation = 'healthz' | 'readyz' | 'metrics' | 'openapi';

export function systemHandlers(deps: GatewayDeps): Pick<OperationHandlers, SystemOperation> {
  const documentJson = JSON.stringify(openApiDocument);
  return {
    healthz: (_req, res) => {
      res.json({ status: 'ok' });
    },
    readyz: async (_req, res) => {
      const names = Object.keys(deps.readiness);
      const results = await Promise.all(names.map((name) => runCheck(deps.readiness[name] ?? (() => Promise.resolve()))));
      const checks = Object.fromEntries(names.map((name, i) => [name, results[i] ?? 'failed']));
      const failing = names.filter((name) => checks[name] !== 'ok');
      if (failing.length === 0) {
        res.json({ status: 'ready', checks });
        return;
      }
      res
        .status(503)
        .set('Retry-After', String(deps.options.retryAfterSeconds ?? 2))
        .type(PROBLEM_CONTENT_TYPE)
        .send(
          JSON.stringify({
            type: problemType('NOT_READY'),
            title: PROBLEM_CODES.NOT_READY.title,
            status: PROBLEM_CODES.NOT_READY.status,
            detail: `Not ready: ${failing.map((n) => `${n} (${checks[n]})`).join(', ')}.`,
            code: 'NOT_READY',
            checks,
          }),
        );
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
