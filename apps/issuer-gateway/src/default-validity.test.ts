// The default validity as an operator configures it travels config -> gateway request -> issue
// job -> ca-service. Each hop must agree on what a Go duration means in milliseconds, or the
// ca-service refuses the job (and with it every request batched alongside).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@fsm-certs/config';
import { Authenticator, buildIssueItem, x509CsrCheck } from '@fsm-certs/gateway';
import { issueJobPayloadSchema, parseJobPayload } from '@fsm-certs/queue';
import { appOptions } from './options.js';

const ADMIN_TOKEN = 'admin-token-0123456789';

describe('the configured default validity reaches the ca-service intact', () => {
  it.each([
    ['fractional hours "1.1h"', '1.1h', 3_960_000],
    ['fractional hours "2.2h"', '2.2h', 7_920_000],
    ['sub-millisecond digits "10m0.0004s"', '10m0.0004s', 600_000],
    ['whole hours "24h"', '24h', 86_400_000],
  ])('a request without validity under FSM_SERVICE_CERT_VALIDITY=%s becomes a job the ca-service accepts', (_name, validity, expectedMs) => {
    const options = appOptions(loadConfig({ env: { FSM_SERVICE_CERT_VALIDITY: validity, GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN } }));
    const principal = new Authenticator(options.tokens).authenticate(`Bearer ${ADMIN_TOKEN}`);
    const ctx = { principal, defaultValidityMs: options.defaultValidityMs, trustDomain: options.trustDomain, csrCheck: x509CsrCheck };
    const withDefault = buildIssueItem({ commonName: 'bookbuyer.bookbuyer.cluster.local' }, ctx);
    const explicit = buildIssueItem({ commonName: 'bookstore.bookstore.cluster.local', validity: '24h' }, ctx);

    // What the ca-service's issue processor does with the job the batcher sends.
    const payload = parseJobPayload(issueJobPayloadSchema, {
      version: 1,
      requests: [
        { ...withDefault, requestId: randomUUID() },
        { ...explicit, requestId: randomUUID() },
      ],
    });

    expect(payload.requests.map((r) => r.validityMs)).toEqual([expectedMs, 86_400_000]);
  });
});
