// One rule for the two waits of an issue: the gateway's (gateway.issueTimeout, GATEWAY_ISSUE_TIMEOUT)
// must outlast the provider's own (certmanager.timeout, CERTMANAGER_TIMEOUT), or a certificate
// signed between the two reaches the inventory while its caller already got a 504. So the
// gateway's is derived from the provider's, and an explicit one that is too short is refused.
import { formatDuration } from '@fsm-certs/core';

/** The gateway's wait when the provider has no long wait of its own (Tresor signs locally, Vault answers one HTTP call). */
export const DEFAULT_ISSUE_TIMEOUT_MS = 30_000;

/**
 * What the gateway allows beyond the provider's wait: the queue hop both ways, deleting the
 * CertificateRequest (bounded by the provider), reading the CA bundle and storing the result.
 */
export const ISSUE_TIMEOUT_MARGIN_MS = 15_000;

export interface IssueTimeoutInputs {
  readonly providerKind: string;
  /** certmanager.timeout in ms. */
  readonly certManagerTimeoutMs: number;
  /** gateway.issueTimeout in ms when set explicitly. */
  readonly explicitMs: number | undefined;
}

/** The provider's own bound on waiting for one certificate, when it has one the gateway must outlast. */
function providerWaitMs(inputs: IssueTimeoutInputs): number | undefined {
  return inputs.providerKind === 'cert-manager' ? inputs.certManagerTimeoutMs : undefined;
}

/** The shortest gateway wait the provider allows (undefined: any). */
export function minimumIssueTimeoutMs(inputs: IssueTimeoutInputs): number | undefined {
  const wait = providerWaitMs(inputs);
  return wait === undefined ? undefined : wait + ISSUE_TIMEOUT_MARGIN_MS;
}

/** The gateway's wait: the explicit value, else the provider's wait plus the margin, else 30 s. */
export function effectiveIssueTimeoutMs(inputs: IssueTimeoutInputs): number {
  if (inputs.explicitMs !== undefined) return inputs.explicitMs;
  return Math.max(DEFAULT_ISSUE_TIMEOUT_MS, minimumIssueTimeoutMs(inputs) ?? 0);
}

/** Why an explicit gateway wait is too short, in the words of the configuration reference; undefined when fine. */
export function issueTimeoutProblem(inputs: IssueTimeoutInputs): string | undefined {
  const minimum = minimumIssueTimeoutMs(inputs);
  if (inputs.explicitMs === undefined || minimum === undefined || inputs.explicitMs >= minimum) return undefined;
  return (
    `at least certmanager.timeout (CERTMANAGER_TIMEOUT=${formatDuration(inputs.certManagerTimeoutMs)}) + ${formatDuration(ISSUE_TIMEOUT_MARGIN_MS)} = ${formatDuration(minimum)}, ` +
    'so a certificate cert-manager signs in time is never a 504; unset it to derive it, or lower CERTMANAGER_TIMEOUT'
  );
}
