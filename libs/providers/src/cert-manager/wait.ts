// Waits for one CertificateRequest to reach a terminal state. A watch delivers changes at once;
// if it cannot be opened, or closes early, the wait continues by polling, so a proxy that breaks
// streaming responses costs latency, never correctness.
import { ProviderError } from '../errors.js';
import type { CertManagerClient, WatchHandle } from './client.js';
import { findCondition, type CertificateRequestObject } from './resources.js';

export type RequestState =
  | { readonly state: 'pending'; readonly detail: string }
  | { readonly state: 'issued'; readonly certificate: string; readonly ca: string | undefined }
  | { readonly state: 'failed'; readonly error: ProviderError };

function describe(reason: string | undefined, message: string | undefined): string {
  return [reason, message].filter((part) => part !== undefined && part !== '').join(': ') || 'no reason given';
}

/** Reads the conditions the way cert-manager defines them; terminal states end the wait at once. */
export function evaluateCertificateRequest(object: CertificateRequestObject): RequestState {
  const where = `CertificateRequest ${object.metadata.namespace ?? ''}/${object.metadata.name}`;
  const denied = findCondition(object, 'Denied');
  const ready = findCondition(object, 'Ready');
  if (denied?.status === 'True' || (ready?.status === 'False' && ready.reason === 'Denied')) {
    const condition = denied?.status === 'True' ? denied : ready;
    return {
      state: 'failed',
      error: new ProviderError(
        'ISSUANCE_DENIED',
        `${where} was denied by a cert-manager approver (${describe(condition?.reason, condition?.message)}). Check the approver policy for issuer requests from fsm-certs.`,
      ),
    };
  }
  const invalid = findCondition(object, 'InvalidRequest');
  if (invalid?.status === 'True') {
    return {
      state: 'failed',
      error: new ProviderError(
        'ISSUANCE_FAILED',
        `${where} was rejected as invalid by its issuer (${describe(invalid.reason, invalid.message)}). Check that the issuer accepts the usages and names fsm-certs requests.`,
      ),
    };
  }
  if (ready?.status === 'False' && ready.reason === 'Failed') {
    return {
      state: 'failed',
      error: new ProviderError(
        'ISSUANCE_FAILED',
        `${where} failed (${describe(ready.reason, ready.message)}). Check the issuer's status and the cert-manager controller logs.`,
      ),
    };
  }
  const certificate = object.status?.certificate;
  if (ready?.status === 'True' && certificate !== undefined && certificate !== '') {
    return { state: 'issued', certificate, ca: object.status?.ca || undefined };
  }
  const approved = findCondition(object, 'Approved');
  const detail =
    ready === undefined
      ? approved?.status === 'True'
        ? 'approved, not signed yet'
        : 'not approved yet (is the cert-manager approver running?)'
      : `Ready=${ready.status} ${describe(ready.reason, ready.message)}`;
  return { state: 'pending', detail };
}

export interface WaitOptions {
  readonly client: CertManagerClient;
  readonly namespace: string;
  readonly name: string;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly signal?: AbortSignal;
}

export interface WaitResult {
  readonly certificate: string;
  readonly ca: string | undefined;
  /** true when the watch could not be used and the answer came from polling. */
  readonly polled: boolean;
}

export function waitForCertificateRequest(options: WaitOptions): Promise<WaitResult> {
  const { client, namespace, name, timeoutMs, pollIntervalMs, signal } = options;
  const where = `CertificateRequest ${namespace}/${name}`;

  return new Promise<WaitResult>((resolve, reject) => {
    let settled = false;
    let polling = false;
    let watch: WatchHandle | undefined;
    let pollTimer: NodeJS.Timeout | undefined;
    let lastDetail = 'no status yet';
    let lastReadError: ProviderError | undefined;

    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(pollTimer);
      watch?.stop();
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };

    const consider = (object: CertificateRequestObject | undefined): void => {
      if (object === undefined) {
        finish(() => reject(new ProviderError('ISSUANCE_FAILED', `${where} was deleted by someone else before it was issued; retry.`, { retryable: true })));
        return;
      }
      const result = evaluateCertificateRequest(object);
      if (result.state === 'issued') finish(() => resolve({ certificate: result.certificate, ca: result.ca, polled: polling }));
      else if (result.state === 'failed') finish(() => reject(result.error));
      else lastDetail = result.detail;
    };

    /** One read; a transient failure is remembered and the wait goes on, anything else ends it. */
    const readOnce = async (): Promise<void> => {
      try {
        const object = await client.getCertificateRequest(namespace, name);
        if (!settled) consider(object);
      } catch (error) {
        if (error instanceof ProviderError && error.retryable) lastReadError = error;
        else finish(() => reject(error));
      }
    };

    const poll = async (): Promise<void> => {
      if (settled) return;
      await readOnce();
      if (!settled) pollTimer = setTimeout(() => void poll(), pollIntervalMs);
    };

    const startPolling = (): void => {
      if (settled || polling) return;
      polling = true;
      watch?.stop();
      void poll();
    };

    const onAbort = (): void => {
      finish(() =>
        reject(new ProviderError('ISSUANCE_TIMEOUT', `Waiting for ${where} was cancelled by the caller before it was issued.`, { cause: signal?.reason })),
      );
    };

    const deadline = setTimeout(() => {
      const lastError = lastReadError === undefined ? '' : ` The last read failed: ${lastReadError.message}`;
      finish(() =>
        reject(
          new ProviderError(
            'ISSUANCE_TIMEOUT',
            `${where} was not issued within ${timeoutMs} ms (last state: ${lastDetail}).${lastError} Check that the cert-manager controller is running and the issuer is Ready, or raise the timeout.`,
            { cause: lastReadError },
          ),
        ),
      );
    }, timeoutMs);

    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    void (async () => {
      try {
        const handle = await client.watchCertificateRequest(
          namespace,
          name,
          (type, object) => consider(type === 'DELETED' ? undefined : object),
          () => startPolling(),
        );
        if (settled || polling) {
          handle.stop();
          return;
        }
        watch = handle;
      } catch {
        startPolling();
        return;
      }
      // The request may have changed between its creation and the watch opening: read it once.
      await readOnce();
    })();
  });
}
