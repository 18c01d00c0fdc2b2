import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { toProviderError } from './kube-errors.js';
import type { CertificateRequestObject, Condition } from './resources.js';
import { evaluateCertificateRequest } from './wait.js';

function requestWith(conditions: Condition[], status: Partial<NonNullable<CertificateRequestObject['status']>> = {}): CertificateRequestObject {
  return { metadata: { name: 'fsm-abcde', namespace: 'fsm-system' }, status: { conditions, ...status } };
}

describe('reading a CertificateRequest the way cert-manager defines its conditions', () => {
  it.each([
    ['a new request is pending approval', [], 'pending', undefined],
    ['Approved without Ready is pending', [{ type: 'Approved', status: 'True' }], 'pending', undefined],
    ['Denied=True is a denial', [{ type: 'Denied', status: 'True', reason: 'policy', message: 'no' }], 'failed', 'ISSUANCE_DENIED'],
    ['Ready=False reason Denied is a denial', [{ type: 'Ready', status: 'False', reason: 'Denied' }], 'failed', 'ISSUANCE_DENIED'],
    ['Ready=False reason Failed is a failure', [{ type: 'Ready', status: 'False', reason: 'Failed', message: 'boom' }], 'failed', 'ISSUANCE_FAILED'],
    ['InvalidRequest=True is a failure', [{ type: 'InvalidRequest', status: 'True', message: 'bad csr' }], 'failed', 'ISSUANCE_FAILED'],
    ['Ready=False reason Pending keeps waiting', [{ type: 'Ready', status: 'False', reason: 'Pending' }], 'pending', undefined],
  ] as const)('%s', (_name, conditions, state, code) => {
    const result = evaluateCertificateRequest(requestWith([...conditions] as Condition[]));
    expect(result.state).toBe(state);
    if (result.state === 'failed') expect(result.error.code).toBe(code);
  });

  it('is issued only when Ready=True carries a certificate', () => {
    expect(evaluateCertificateRequest(requestWith([{ type: 'Ready', status: 'True', reason: 'Issued' }])).state).toBe('pending');
    const issued = evaluateCertificateRequest(requestWith([{ type: 'Ready', status: 'True', reason: 'Issued' }], { certificate: 'Y2VydA==' }));
    expect(issued).toEqual({ state: 'issued', certificate: 'Y2VydA==', ca: undefined });
  });

  it("carries the condition's message into the error", () => {
    const result = evaluateCertificateRequest(requestWith([{ type: 'Denied', status: 'True', reason: 'Policy', message: 'bookstore may not have this name' }]));
    expect(result.state === 'failed' && result.error.message).toContain('Policy: bookstore may not have this name');
  });
});

describe('mapping Kubernetes API failures to provider errors', () => {
  const status = (code: number, reason: string, message: string): string => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  it.each([
    [401, 'Unauthorized', 'BACKEND_AUTH_FAILED', false],
    [403, 'Forbidden', 'BACKEND_AUTH_FAILED', false],
    [404, 'NotFound', 'CONFIGURATION_INVALID', false],
    [422, 'Invalid', 'INVALID_REQUEST', false],
    [429, 'TooManyRequests', 'BACKEND_UNAVAILABLE', true],
    [503, 'ServiceUnavailable', 'BACKEND_UNAVAILABLE', true],
  ] as const)('%i %s becomes %s', (code, reason, expected, retryable) => {
    const error = toProviderError(new ApiException(code, 'x', status(code, reason, 'server says why'), {}), 'create a CertificateRequest');
    expect(error.code).toBe(expected);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain('server says why');
  });

  it.each([
    ['webhook.cert-manager.io', 'INVALID_REQUEST', 400],
    ['validate.kyverno.svc-fail', 'ISSUANCE_DENIED', 403],
  ] as const)('reads a 403 from admission webhook %s as %s (%i), not as RBAC, without the CSR bytes', (webhook, expected, httpStatus) => {
    const message = `admission webhook "${webhook}" denied the request: spec.request: Invalid value: []byte{0x2d, 0x2d, 0x2d}: encoded CSR error: the KeyUsages [ 'digital signature' ] do not match`;
    const error = toProviderError(new ApiException(403, 'x', status(403, 'Forbidden', message), {}), 'create a CertificateRequest in namespace fsm-system');
    expect({ code: error.code, httpStatus: error.httpStatus, retryable: error.retryable }).toEqual({ code: expected, httpStatus, retryable: false });
    expect(error.message).toContain("encoded CSR error: the KeyUsages [ 'digital signature' ] do not match");
    expect(error.message).toContain(webhook);
    expect(error.message).not.toMatch(/RBAC|0x2d/);
  });

  it('cuts a quoted base64 CSR out of any API message', () => {
    const error = toProviderError(
      new ApiException(422, 'x', status(422, 'Invalid', 'CertificateRequest.cert-manager.io "x" is invalid: spec.request: Invalid value: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K": bad'), {}),
      'create a CertificateRequest',
    );
    expect(error.message).toContain('spec.request: Invalid value: <the CSR>: bad');
  });

  it('treats a network failure as BACKEND_UNAVAILABLE', () => {
    const error = toProviderError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6443'), { code: 'ECONNREFUSED' }), 'read Issuer fsm-system/fsm-ca');
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toContain('ECONNREFUSED');
  });
});
