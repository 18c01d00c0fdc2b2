// Turns whatever @kubernetes/client-node throws (ApiException with a Status body, a watch error
// with statusCode, a network error from fetch) into a ProviderError an operator can act on.
import { z } from 'zod';
import { ProviderError, isProviderError } from '../errors.js';

const statusBodySchema = z.object({
  kind: z.literal('Status').optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  code: z.number().optional(),
});

interface HttpFailure {
  readonly status: number;
  readonly reason: string | undefined;
  readonly message: string | undefined;
}

function readStatusBody(body: unknown): { reason: string | undefined; message: string | undefined } {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { reason: undefined, message: body.slice(0, 300) || undefined };
    }
  }
  const parsed = statusBodySchema.safeParse(value);
  return parsed.success ? { reason: parsed.data.reason, message: parsed.data.message } : { reason: undefined, message: undefined };
}

/** The HTTP status (and Status body) of a failed API call, or undefined for a non-HTTP failure. */
export function httpFailureOf(error: unknown): HttpFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // ApiException: numeric `code` plus `body`; a watch failure: numeric `statusCode`.
  const status =
    'code' in error && typeof error.code === 'number'
      ? error.code
      : 'statusCode' in error && typeof error.statusCode === 'number'
        ? error.statusCode
        : undefined;
  if (status === undefined) return undefined;
  const { reason, message } = readStatusBody('body' in error ? error.body : undefined);
  return { status, reason, message };
}

/**
 * The API server's messages may quote what was sent: a webhook's field.Invalid prints spec.request
 * as Go bytes, schema validation quotes the base64 CSR. A CSR is never returned or logged.
 */
export function redactRequestBytes(message: string): string {
  return message.replace(/\[\]byte\{[^}]*\}/g, '<the CSR>').replace(/"LS0tLS1CRUdJTi[A-Za-z0-9+/=]*"/g, '<the CSR>');
}

const WEBHOOK_DENIAL = /^admission webhook "([^"]+)" denied the request:?\s*([\s\S]*)$/;

/**
 * A validating admission webhook refused the write. It is not RBAC: cert-manager's own webhook
 * refuses a CertificateRequest that breaks its validation (our request was wrong: 400); another
 * webhook (a policy engine) refuses by policy (403). Either way its message is what to act on.
 */
function webhookDenial(status: number, message: string | undefined, action: string, cause: unknown): ProviderError | undefined {
  const match = message === undefined ? null : WEBHOOK_DENIAL.exec(message);
  if (match === null || status < 400 || status >= 500) return undefined;
  const webhook = match[1] ?? '';
  const said = redactRequestBytes(match[2] ?? '') || 'no reason given';
  if (webhook.endsWith('cert-manager.io')) {
    return new ProviderError(
      'INVALID_REQUEST',
      `cert-manager's admission webhook (${webhook}) refused to ${action}: ${said}. The request breaks cert-manager's validation; nothing was created.`,
      { cause },
    );
  }
  return new ProviderError('ISSUANCE_DENIED', `The admission webhook ${webhook} refused to ${action}: ${said}. Review that webhook's policy for fsm-certs' requests.`, { cause });
}

/**
 * `action` completes "while trying to ...", e.g. "create a CertificateRequest in namespace fsm-system".
 * Messages carry the API server's Status message (it never contains our key: the key is never
 * sent; a quoted CSR is cut out).
 */
export function toProviderError(error: unknown, action: string): ProviderError {
  if (isProviderError(error)) return error;
  const failure = httpFailureOf(error);
  if (failure === undefined) {
    const detail = error instanceof Error ? error.message : String(error);
    return new ProviderError(
      'BACKEND_UNAVAILABLE',
      `The Kubernetes API could not be reached to ${action} (${detail}); check the API server address in the kubeconfig / in-cluster service account and the network path, then retry.`,
      { cause: error },
    );
  }
  const denied = webhookDenial(failure.status, failure.message, action, error);
  if (denied !== undefined) return denied;
  const said = failure.message === undefined ? '' : `: ${redactRequestBytes(failure.message)}`;
  const head = `The Kubernetes API answered ${failure.status}${failure.reason === undefined ? '' : ` ${failure.reason}`} when asked to ${action}${said}`;
  switch (true) {
    case failure.status === 401:
      return new ProviderError('BACKEND_AUTH_FAILED', `${head}. The credentials were rejected; check the service account token or kubeconfig user.`, { cause: error });
    case failure.status === 403:
      return new ProviderError(
        'BACKEND_AUTH_FAILED',
        `${head}. Grant the fsm-certs service account RBAC to create, get, list, watch and delete certificaterequests.cert-manager.io and to get issuers/clusterissuers.`,
        { cause: error },
      );
    case failure.status === 404:
      return new ProviderError(
        'CONFIGURATION_INVALID',
        `${head}. Check that cert-manager (its CRDs) is installed and that the namespace exists.`,
        { cause: error },
      );
    case failure.status === 400 || failure.status === 422:
      return new ProviderError('INVALID_REQUEST', `${head}. The request was rejected as invalid; it was not retried.`, { cause: error });
    case failure.status === 409:
      return new ProviderError('ISSUANCE_FAILED', `${head}. A conflicting object exists; retrying may help.`, { cause: error, retryable: true });
    case failure.status === 429 || failure.status >= 500:
      return new ProviderError('BACKEND_UNAVAILABLE', `${head}. The API server is overloaded or failing; retry later.`, { cause: error });
    default:
      return new ProviderError('ISSUANCE_FAILED', `${head}.`, { cause: error });
  }
}
