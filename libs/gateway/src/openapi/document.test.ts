// The OpenAPI document and the express routes must describe the same API.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { generateKek } from '@fsm-certs/queue';
import { createGatewayApp } from '../app.js';
import type { GatewayDeps } from '../deps.js';
import { GATEWAY_ERROR_CODES } from '../errors.js';
import { openApiDocument } from './document.js';

function unused(): never {
  throw new Error('not used while listing routes');
}

/** Builds the app with inert dependencies: only its routing table is inspected. */
function appRoutes(): Set<string> {
  const deps: GatewayDeps = {
    options: { tokens: [], rateLimitPerSec: 1, bodyLimit: '1kb', issueTimeoutMs: 1, batchWindowMs: 1, batchMax: 1, batchPipelineDepth: 2, defaultValidityMs: 1, trustDomain: 'cluster.local' },
    inventory: { get: unused, deleteSerial: unused, list: unused, size: unused, getTrustBundle: unused },
    events: { publish: unused, subscribe: unused, readAfter: unused },
    issueClient: { issueBatch: unused, queueDepth: unused, close: unused },
    kek: generateKek().kek,
    csrCheck: { verify: unused },
    clock: { now: () => 0 },
    registry: new Registry(),
    readiness: {},
  };
  const { app } = createGatewayApp(deps);
  const routes = new Set<string>();
  const stack = (app.router as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> }).stack;
  for (const layer of stack) {
    // app.all() layers (every method: the 405 answers) are not operations.
    if (layer.route === undefined || Object.keys(layer.route.methods).length > 3) continue;
    const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
    for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') routes.add(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

function documentedRoutes(): Set<string> {
  const routes = new Set<string>();
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const method of Object.keys(item).filter((k) => !k.startsWith('x-'))) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

describe('openapi.json', () => {
  it('documents every express route and nothing that is not routed', () => {
    const routed = appRoutes();
    expect(routed.size).toBeGreaterThanOrEqual(11);
    expect([...routed].sort()).toEqual([...documentedRoutes()].sort());
  });

  it('is OpenAPI 3.1 whose $refs all resolve', () => {
    expect(openApiDocument.openapi).toBe('3.1.0');
    const text = JSON.stringify(openApiDocument);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    expect(refs.length).toBeGreaterThan(5);
    const components = openApiDocument.components as unknown as Record<string, Record<string, unknown>>;
    for (const [, group = '', name = ''] of refs) expect(components[group]?.[name], `${group}/${name}`).toBeDefined();
  });

  it('lists every stable error code', () => {
    const description = JSON.stringify(openApiDocument.components.schemas['Problem']);
    for (const code of GATEWAY_ERROR_CODES) expect(description).toContain(code);
  });
});
