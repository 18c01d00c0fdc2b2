// The multi-issuer API of a PKI mount (Vault >= 1.11, OpenBao): LIST issuers, an issuer's
// json/pem/der, deleting an issuer, and which one is the default (root/replace, config/issuers) —
// answered as OpenBao 2.7 answers them, so the trust bundle can follow a root rotated inside the
// emulator.
import { VaultApiError, badRequest, envelope, notFound, parseOptionalString } from './http.js';
import { json } from './routes.js';
import type { PkiContext, RouteResult } from './routes.js';
import type { IssuerEntry, PkiState } from './state.js';

function resolve(pki: PkiState, ref: string): IssuerEntry | undefined {
  const id = ref === 'default' ? pki.defaultIssuerId : ref;
  return pki.issuers.find((i) => i.id === id) ?? (ref === '' || ref === 'default' ? undefined : pki.issuers.find((i) => i.name === ref));
}

function defaultsData(pki: PkiState): Record<string, unknown> {
  return { default: pki.defaultIssuerId ?? '', default_follows_latest_issuer: false };
}

/** root/replace and config/issuers: make `ref` (id or name) the default issuer. */
export function setDefaultIssuer(pki: PkiState, ref: unknown): RouteResult {
  const wanted = parseOptionalString(ref) ?? '';
  const issuer = resolve(pki, wanted);
  if (issuer === undefined) throw badRequest(`Error resolving issuer reference: unable to find PKI issuer for reference: ${wanted}`);
  pki.defaultIssuerId = issuer.id;
  return json(200, envelope({ data: defaultsData(pki) }));
}

function pemWithNewline(pem: string): string {
  return `${pem.trim()}\n`;
}

export function handlePkiIssuers(ctx: PkiContext): RouteResult | undefined {
  const pki = ctx.mount.pki;
  if (pki === undefined) return undefined;
  const m = ctx.method;
  if (ctx.subPath === 'issuers') {
    if (m !== 'LIST') throw new VaultApiError(405, ['unsupported operation']);
    if (pki.issuers.length === 0) throw notFound();
    const keyInfo: Record<string, unknown> = {};
    for (const i of pki.issuers) keyInfo[i.id] = { is_default: i.id === pki.defaultIssuerId, issuer_name: i.name, key_id: i.keyId, serial_number: i.serialNumber };
    return json(200, envelope({ data: { key_info: keyInfo, keys: pki.issuers.map((i) => i.id) } }));
  }
  if (ctx.subPath === 'config/issuers') {
    if (m === 'GET') return json(200, envelope({ data: defaultsData(pki) }));
    if (m === 'POST' || m === 'PUT') return setDefaultIssuer(pki, ctx.body.default);
    throw new VaultApiError(405, ['unsupported operation']);
  }
  const match = /^issuer\/([^/]+)(?:\/(json|pem|der))?$/.exec(ctx.subPath);
  if (match === null) return undefined;
  const ref = decodeURIComponent(match[1] ?? '');
  const issuer = resolve(pki, ref);
  if (m === 'DELETE' && match[2] === undefined) {
    if (issuer !== undefined) {
      pki.issuers.splice(pki.issuers.indexOf(issuer), 1);
      if (pki.defaultIssuerId === issuer.id) pki.defaultIssuerId = undefined;
    }
    return json(200, envelope({}));
  }
  if (m !== 'GET') throw new VaultApiError(405, ['unsupported operation']);
  // OpenBao answers a read of an unknown issuer with 500, not 404.
  if (issuer === undefined) throw new VaultApiError(500, [`unable to find PKI issuer for reference: ${ref}`]);
  const pem = pemWithNewline(issuer.issuer.certificatePem);
  if (match[2] === 'pem') return { kind: 'raw', status: 200, contentType: 'application/pem-certificate-chain', body: pem };
  if (match[2] === 'der') return { kind: 'raw', status: 200, contentType: 'application/pkix-cert', body: issuer.issuer.certificateDer };
  // Every issuer the emulator makes is a self-signed root: its chain is itself.
  return json(200, envelope({ data: { ca_chain: [pem], certificate: pem, issuer_id: issuer.id, issuer_name: issuer.name } }));
}
