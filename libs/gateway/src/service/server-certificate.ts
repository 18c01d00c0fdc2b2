// The gateway's own HTTPS certificate: a leaf for issuer-gateway.<namespace>.svc obtained
// through the issue queue like any workload's (the gateway holds no signing power). It asks for a
// decade; Vault (role max_ttl) or cert-manager may give far less, so it is renewed at its
// renewAt while the process runs (server-certificate-renewal.ts). Issued with reason `request`:
// a restart, or a renewal after the rotation-worker already rotated it, gets the stored one back.
import { randomUUID } from 'node:crypto';
import type { IssueItem, KeyEncryptionKey } from '@fsm-certs/queue';
import { GatewayError, isGatewayError } from '../errors.js';
import { itemError } from '../issue/batcher.js';
import type { IssueClient } from '../issue/issue-client.js';
import { openKey } from '../responses.js';

export const SERVER_CERT_VALIDITY_MS = 87_600 * 3600 * 1000;

export interface ServerCertificate {
  /** Leaf followed by any intermediates, as TLS servers send it. */
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  /** When to replace it (the inventory's renewAt: inside the last third of its lifetime). */
  readonly renewAt: string;
  /** The roots clients should trust. */
  readonly trustedCasPem: readonly string[];
}

export interface ServerCertificateOptions {
  readonly namespace: string;
  /** Requested validity; default SERVER_CERT_VALIDITY_MS. The provider may cap it (Vault's role max_ttl). */
  readonly validityMs?: number;
  /** Per attempt; the ca-service may still be starting. Default 30 s. */
  readonly timeoutMs?: number;
  /** Give up after this long in total. Default 5 min. */
  readonly deadlineMs?: number;
  readonly onRetry?: (error: unknown) => void;
}

export function serverCertificateItem(namespace: string, validityMs: number = SERVER_CERT_VALIDITY_MS): IssueItem {
  const service = 'issuer-gateway';
  return {
    requestId: randomUUID(),
    commonName: `${service}.${namespace}.svc`,
    dnsNames: [service, `${service}.${namespace}`, `${service}.${namespace}.svc.cluster.local`, 'localhost'],
    uris: [],
    ipAddresses: ['127.0.0.1', '::1'],
    validityMs,
    keyAlgorithm: 'ecdsa-p256',
    reason: 'request',
  };
}

export async function obtainServerCertificate(client: IssueClient, kek: KeyEncryptionKey, options: ServerCertificateOptions): Promise<ServerCertificate> {
  const deadline = Date.now() + (options.deadlineMs ?? 300_000);
  for (;;) {
    try {
      const item = serverCertificateItem(options.namespace, options.validityMs);
      const [result] = await client.issueBatch([item], { timeoutMs: options.timeoutMs ?? 30_000 });
      if (result === undefined) throw new GatewayError('ISSUANCE_FAILED', 'The CA service returned no result for the gateway certificate.');
      if (!result.ok) throw itemError(result.error);
      const record = result.certificate;
      const key = openKey(kek, record);
      if (key === undefined) throw new GatewayError('ISSUANCE_FAILED', 'The gateway certificate came back without a server-generated key.');
      const chain = [record.certificatePem, ...record.chainPem].map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
      return {
        certificateChainPem: chain,
        privateKeyPem: key,
        serialNumber: record.serialNumber,
        notAfter: record.notAfter,
        renewAt: record.renewAt,
        trustedCasPem: record.trustedCasPem,
      };
    } catch (error) {
      const retryable = isGatewayError(error) && error.retryable;
      if (!retryable || Date.now() >= deadline) throw error;
      options.onRetry?.(error);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
