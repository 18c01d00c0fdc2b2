// Maps Vault's answers to our ProviderError codes. Every message names the Vault path and status
// and tells the operator what to do; tokens never appear in them.
import { ProviderError } from '../errors.js';
import type { ProviderErrorCode } from '../errors.js';
import type { VaultNetworkError } from './transport.js';

/** A ProviderError that also carries what Vault said. */
export class VaultRequestError extends ProviderError {
  /**
   * True once the client has spent its own retries on this transient failure: retrying the whole
   * job at once would only stack more waiting on the caller, who is told to come back instead.
   */
  backendRetriesSpent = false;

  constructor(
    code: ProviderErrorCode,
    message: string,
    readonly vault: { readonly method: string; readonly path: string; readonly status: number | undefined; readonly errors: readonly string[] },
    options: { cause?: unknown; httpStatus?: number } = {},
  ) {
    super(code, message, options);
  }
}

export function vaultErrorMessages(body: unknown): string[] {
  if (typeof body === 'object' && body !== null && 'errors' in body && Array.isArray(body.errors)) {
    return body.errors.map((e: unknown) => String(e));
  }
  if (typeof body === 'string' && body.trim() !== '') return [body.trim().slice(0, 300)];
  return [];
}

export function fromNetworkError(method: string, path: string, address: string, error: VaultNetworkError): VaultRequestError {
  return new VaultRequestError(
    'BACKEND_UNAVAILABLE',
    `Vault at ${address} did not answer ${method} /v1/${path} (${error.code}). Check that Vault is running and reachable, and that vault.host/vault.port/vault.protocol (VAULT_ADDR) point at it.`,
    { method, path, status: undefined, errors: [] },
    { cause: error },
  );
}

/** Vault's own messages sometimes end in a period; ours add one: never two. */
function withoutFinalStop(text: string): string {
  return text.trim().replace(/[.\s]+$/, '');
}

// Vault's wording for "this role may not have that name", per kind of name (CN and DNS/email
// SANs; IP SANs; URI SANs; other SANs), as answered by Vault 1.x and OpenBao 2.x.
const NAME_REFUSED = /not allowed by this role|are not allowed in this role|not valid for this role|not allowed for this role/i;

export function fromStatus(method: string, path: string, status: number, body: unknown): VaultRequestError {
  const errors = vaultErrorMessages(body).map(withoutFinalStop);
  const reason = errors.length > 0 ? errors.join('; ') : '(no error text)';
  const where = `Vault ${method} /v1/${path} answered ${status}: ${reason}`;
  const vault = { method, path, status, errors };
  if (status === 403) {
    return new VaultRequestError(
      'BACKEND_AUTH_FAILED',
      `${where}. The Vault token is invalid, expired or lacks a policy for this path: set vault.token (VAULT_TOKEN) or the secret named by vault.secret.name/vault.secret.key to a valid token.`,
      vault,
    );
  }
  if (status === 503 || status === 429 || status >= 500) {
    const hint = /sealed/i.test(reason) ? 'Vault is sealed: unseal it' : 'Vault is not ready';
    return new VaultRequestError('BACKEND_UNAVAILABLE', `${where}. ${hint}; the request is retried with backoff.`, vault);
  }
  if (NAME_REFUSED.test(reason)) {
    // The caller asked for a name the role refuses: the gateway's caller gets 403 with Vault's reason.
    return new VaultRequestError('NAME_NOT_ALLOWED', `Vault role refused the name: ${reason}`, vault, { httpStatus: 403 });
  }
  if (/unknown role|no handler for route|no default issuer/i.test(reason) || (status === 404 && /^(?:.+\/)?(issue|sign)\//.test(path))) {
    // The caller did nothing wrong: the backend behind the gateway is not set up (502, not 500).
    return new VaultRequestError(
      'CONFIGURATION_INVALID',
      `${where}. The PKI mount, role or CA is missing: run vault-bootstrap or check vault.role and vault.mountPath (VAULT_ROLE, VAULT_MOUNT_PATH).`,
      vault,
      { httpStatus: 502 },
    );
  }
  return new VaultRequestError('INVALID_REQUEST', `${where}.`, vault);
}
