// GET/POST /v1/ca/rotation over real HTTP: admin only, the body checked at the edge, the action
// handed to the root-rotation port as a job payload, and the ca-service's refusals answered with
// their contract codes. The port is a fake; the queue hop is covered by the stack's e2e suite.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa } from '@fsm-certs/x509';
import { generateKek, type RootRotationJobPayload, type RootRotationJobResult, type RootRotationStatus } from '@fsm-certs/queue';
import { createGatewayApp } from './app.js';
import type { InventoryPort } from './deps.js';
import { x509CsrCheck } from './issue/csr-check.js';
import type { RootRotationPort } from './rotation/root-rotation-port.js';
import { GRANTS, ManualClock, TOKENS, problemOf } from './testing/harness.test-helpers.js';

const root = createRootCa();
const status: RootRotationStatus = {
  stage: 'prepared',
  rotationId: '20260101T000000-abcdef',
  paused: false,
  auto: true,
  propagationSeconds: 5,
  spreadSeconds: 5,
  stageSince: '2026-01-01T00:00:00.000Z',
  roots: [
    { role: 'old', fingerprint: root.issuer.fingerprint, subject: 'O=Flomesh Service Mesh, CN=fsm-ca.flomesh.io', notBefore: root.issuer.notBefore.toISOString(), notAfter: root.issuer.notAfter.toISOString(), signing: true, trusted: true, liveLeaves: 3, certificate: root.certificatePem },
  ],
  otherLiveLeaves: 0,
  signers: { 'ca-service-1': root.issuer.fingerprint },
  updatedAt: '2026-01-01T00:00:01.000Z',
};

class FakeRotation implements RootRotationPort {
  readonly payloads: RootRotationJobPayload[] = [];
  next: RootRotationJobResult = { version: 1, ok: true, status };
  async status(): Promise<RootRotationStatus | undefined> {
    return status;
  }
  async act(payload: RootRotationJobPayload): Promise<RootRotationJobResult> {
    this.payloads.push(payload);
    return this.next;
  }
}

const unused = (): never => {
  throw new Error('not used by these routes');
};
const inventory: InventoryPort = { get: unused, deleteSerial: unused, list: unused, size: async () => 0, getTrustBundle: async () => undefined };
const rotation = new FakeRotation();
let server: Server;
let baseUrl = '';

beforeAll(async () => {
  const gateway = createGatewayApp({
    options: { tokens: GRANTS, rateLimitPerSec: 1000, bodyLimit: '64kb', issueTimeoutMs: 5_000, batchWindowMs: 2, batchMax: 64, batchPipelineDepth: 2, defaultValidityMs: 86_400_000, trustDomain: 'cluster.local' },
    inventory,
    events: { publish: unused, subscribe: unused, readAfter: unused },
    issueClient: { issueBatch: unused, queueDepth: async () => 0, close: async () => undefined },
    rootRotation: rotation,
    kek: generateKek().kek,
    csrCheck: x509CsrCheck,
    clock: new ManualClock(),
    registry: new Registry(),
    readiness: {},
  });
  server = await new Promise((resolve) => {
    const s = createServer(gateway.handler).listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function call(method: string, token: string | undefined, body?: unknown): Promise<Response> {
  return fetch(`${baseUrl}/v1/ca/rotation`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('/v1/ca/rotation', () => {
  it('answers an admin the published status, and refuses other tokens with 403 FORBIDDEN and no token with 401', async () => {
    const res = await call('GET', TOKENS.admin);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(status);
    for (const token of [TOKENS.reader, TOKENS.bookstore]) {
      const refused = await call('POST', token, { action: 'start' });
      expect([refused.status, (await problemOf(refused)).code]).toEqual([403, 'FORBIDDEN']);
    }
    expect((await call('GET', undefined)).status).toBe(401);
    expect(rotation.payloads).toEqual([]);
  });

  it('hands start with its periods to the ca-service in milliseconds, naming who asked', async () => {
    const res = await call('POST', TOKENS.admin, { action: 'start', auto: true, propagation: '5s', spread: '1m30s' });
    expect(res.status).toBe(200);
    expect(rotation.payloads.at(-1)).toEqual({ version: 1, action: 'start', auto: true, propagationMs: 5_000, spreadMs: 90_000, requestedBy: 'admin' });
  });

  it.each([
    { name: 'an unknown action', body: { action: 'promote' } },
    { name: 'an unknown field', body: { action: 'start', when: 'now' } },
    { name: 'a period that is not a Go duration', body: { action: 'start', propagation: 'ten minutes' } },
    { name: 'a period under 1s', body: { action: 'start', spread: '500ms' } },
    { name: 'periods with an action other than start', body: { action: 'activate', propagation: '5s' } },
  ])('refuses $name with 400 INVALID_BODY before anything reaches the ca-service', async ({ body }) => {
    const before = rotation.payloads.length;
    const res = await call('POST', TOKENS.admin, body);
    expect([res.status, (await problemOf(res)).code]).toEqual([400, 'INVALID_BODY']);
    expect(rotation.payloads.length).toBe(before);
  });

  it("answers the ca-service's refusal with its contract code: 409 ROTATION_CONFLICT, 409 ROTATION_UNSUPPORTED", async () => {
    for (const code of ['ROTATION_CONFLICT', 'ROTATION_UNSUPPORTED'] as const) {
      rotation.next = { version: 1, ok: false, error: { code, message: `${code}: detail for the operator`, httpStatus: 409, retryable: false } };
      const res = await call('POST', TOKENS.admin, { action: 'retire' });
      const problem = await problemOf(res);
      expect([res.status, problem.code]).toEqual([409, code]);
      expect(problem.detail).toContain('detail for the operator');
    }
    rotation.next = { version: 1, ok: true, status };
  });

  it('exports the stage and live leaves per root as metrics', async () => {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(text).toContain('fsm_certs_root_rotation_stage{stage="prepared"} 1');
    expect(text).toContain('fsm_certs_root_rotation_stage{stage="idle"} 0');
    expect(text).toContain('fsm_certs_root_rotation_live_leaves{role="old"} 3');
  });
});
