// What a workload must trust for certificates from one Vault PKI mount: the root of every issuer
// a live leaf may chain to — every issuer of the mount that is neither revoked nor expired, not
// just the default one. After `pki/root/rotate/internal` + `pki/root/replace`, leaves come from
// the new root while leaves of the old one are still live, so both belong in the bundle.
import { certificateFacts, splitPemBundle } from '@fsm-certs/x509';
import type { VaultClient } from './vault-client.js';

export interface VaultTrust {
  /** The default issuer's certificate: what signs new leaves now. */
  readonly issuingCaPem: string;
  /** Roots, the default issuer's first. */
  readonly trustedCasPem: readonly string[];
}

export function normalisePem(pem: string): string {
  return `${pem.trim()}\n`;
}

// The same few CA certificates come back with every issued leaf: parse each once.
const selfSigned = new Map<string, boolean>();

export function isSelfSigned(pem: string): boolean {
  let known = selfSigned.get(pem);
  if (known === undefined) {
    if (selfSigned.size > 64) selfSigned.clear();
    const info = certificateFacts(pem);
    known = info.subject === info.issuer;
    selfSigned.set(pem, known);
  }
  return known;
}

/** The top of an issuer's chain: its self-signed root, else the last certificate Vault knows. */
function rootOf(certificatePem: string, chain: readonly string[]): string {
  const all = [certificatePem, ...chain].flatMap((pem) => splitPemBundle(pem)).map(normalisePem);
  return all.find(isSelfSigned) ?? all[all.length - 1] ?? normalisePem(certificatePem);
}

/** undefined when the mount has no CA at all. */
export async function readVaultTrust(client: VaultClient, mount: string, nowMs: number): Promise<VaultTrust | undefined> {
  const ids = await client.listIssuers(mount);
  if (ids === undefined) {
    // A Vault before the multi-issuer API has one CA, served at ca/pem.
    const caPem = await client.readCaPem(mount);
    return caPem === undefined ? undefined : { issuingCaPem: normalisePem(caPem), trustedCasPem: [normalisePem(caPem)] };
  }
  if (ids.length === 0) return undefined;
  const fallback = await client.readIssuer(mount, 'default');
  const issuers = await Promise.all(ids.map((id) => client.readIssuer(mount, id)));
  const roots: string[] = [];
  for (const issuer of issuers) {
    if (issuer === undefined || issuer.revoked === true) continue;
    const root = rootOf(issuer.certificate, issuer.ca_chain);
    if (certificateFacts(root).notAfter.getTime() <= nowMs) continue;
    if (!roots.includes(root)) roots.push(root);
  }
  const defaultIssuer = fallback ?? issuers.find((i) => i !== undefined);
  if (defaultIssuer === undefined) return undefined;
  const defaultRoot = rootOf(defaultIssuer.certificate, defaultIssuer.ca_chain);
  return {
    issuingCaPem: normalisePem(defaultIssuer.certificate),
    trustedCasPem: [defaultRoot, ...roots.filter((r) => r !== defaultRoot)],
  };
}
