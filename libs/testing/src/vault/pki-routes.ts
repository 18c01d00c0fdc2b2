// The PKI secrets engine below a mount: config/urls, roles, root/generate, ca/pem, cert/ca,
// issue and sign. Paths are relative to the mount (e.g. `roles/fsm`).
import { X509Certificate, randomUUID } from 'node:crypto';
import { keyFamilyOf, type KeyAlgorithm } from '@fsm-certs/core';
import { createRootCa } from '@fsm-certs/x509';
import { VaultApiError, badRequest, envelope, goDuration, notFound, parseBool, parseList, parseOptionalString, parseTtlSeconds } from './http.js';
import { colonHex, issueOrSign } from './pki-issue.js';
import { setDefaultIssuer } from './pki-issuers.js';
import { empty, json } from './routes.js';
import type { PkiContext, RouteResult } from './routes.js';
import { defaultIssuer } from './state.js';
import type { PkiState, RoleEntry } from './state.js';

/**
 * Paths a client may read without a token (Vault marks them unauthenticated): the CA reads, the
 * issuer list (LIST only) and an issuer's public json / pem / der.
 */
export function isUnauthenticatedPkiPath(subPath: string, method: string): boolean {
  if (subPath === 'ca/pem' || subPath === 'ca' || subPath === 'cert/ca' || subPath === 'ca_chain') return true;
  if (subPath === 'issuers') return method === 'LIST';
  return method === 'GET' && /^issuer\/[^/]+\/(json|pem|der)$/.test(subPath);
}

const ROLE_FIELDS = new Set([
  'allow_any_name', 'allow_subdomains', 'allow_bare_domains', 'allow_localhost', 'allow_glob_domains', 'allow_ip_sans',
  'allowed_domains', 'allowed_uri_sans', 'enforce_hostnames', 'ttl', 'max_ttl', 'key_type', 'key_bits', 'server_flag',
  'client_flag', 'use_csr_common_name', 'use_csr_sans', 'require_cn', 'organization', 'ou', 'not_before_duration',
  'generate_lease', 'no_store', 'issuer_ref', 'key_usage',
]);

/** Vault's default role key_usage. */
const DEFAULT_KEY_USAGE = ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'];

function parseRole(body: Record<string, unknown>): { role: RoleEntry; warnings: string[] } {
  const keyTypeRaw = parseOptionalString(body.key_type) ?? 'rsa';
  if (keyTypeRaw !== 'rsa' && keyTypeRaw !== 'ec' && keyTypeRaw !== 'ed25519' && keyTypeRaw !== 'any') {
    throw badRequest(`unknown key_type ${keyTypeRaw}`);
  }
  const bitsDefault = keyTypeRaw === 'ec' ? 256 : keyTypeRaw === 'rsa' ? 2048 : 0;
  const keyBits = body.key_bits === undefined || Number(body.key_bits) === 0 ? bitsDefault : Number(body.key_bits);
  const role: RoleEntry = {
    allowAnyName: parseBool(body.allow_any_name, false),
    allowSubdomains: parseBool(body.allow_subdomains, false),
    allowBareDomains: parseBool(body.allow_bare_domains, false),
    allowLocalhost: parseBool(body.allow_localhost, true),
    allowGlobDomains: parseBool(body.allow_glob_domains, false),
    allowIpSans: parseBool(body.allow_ip_sans, true),
    allowedDomains: parseList(body.allowed_domains),
    allowedUriSans: parseList(body.allowed_uri_sans),
    enforceHostnames: parseBool(body.enforce_hostnames, true),
    ttlSeconds: parseTtlSeconds(body.ttl, 'ttl') ?? 0,
    maxTtlSeconds: parseTtlSeconds(body.max_ttl, 'max_ttl') ?? 0,
    keyType: keyTypeRaw,
    keyBits,
    serverFlag: parseBool(body.server_flag, true),
    clientFlag: parseBool(body.client_flag, true),
    keyUsage: body.key_usage === undefined ? DEFAULT_KEY_USAGE : parseList(body.key_usage),
    useCsrCommonName: parseBool(body.use_csr_common_name, true),
    useCsrSans: parseBool(body.use_csr_sans, true),
  };
  const ignored = Object.keys(body).filter((k) => !ROLE_FIELDS.has(k));
  const warnings = ignored.length > 0 ? [`Endpoint ignored these unrecognized parameters: [${ignored.join(' ')}]`] : [];
  return { role, warnings };
}

function roleData(role: RoleEntry): Record<string, unknown> {
  return {
    allow_any_name: role.allowAnyName,
    allow_subdomains: role.allowSubdomains,
    allow_bare_domains: role.allowBareDomains,
    allow_localhost: role.allowLocalhost,
    allow_glob_domains: role.allowGlobDomains,
    allow_ip_sans: role.allowIpSans,
    allowed_domains: [...role.allowedDomains],
    allowed_uri_sans: [...role.allowedUriSans],
    enforce_hostnames: role.enforceHostnames,
    ttl: role.ttlSeconds,
    max_ttl: role.maxTtlSeconds,
    key_type: role.keyType,
    key_bits: role.keyBits,
    server_flag: role.serverFlag,
    client_flag: role.clientFlag,
    key_usage: [...role.keyUsage],
    use_csr_common_name: role.useCsrCommonName,
    use_csr_sans: role.useCsrSans,
  };
}

function rootKeyAlgorithm(body: Record<string, unknown>): KeyAlgorithm {
  const keyType = parseOptionalString(body.key_type) ?? 'rsa';
  const bits = Number(body.key_bits ?? 0);
  if (keyType === 'ec') return 'ecdsa-p256';
  if (keyType === 'rsa') return bits === 3072 ? 'rsa-3072' : bits === 4096 ? 'rsa-4096' : 'rsa-2048';
  throw badRequest(`unsupported key_type ${keyType} for root generation in the emulator`);
}

function generateRoot(ctx: PkiContext, pki: PkiState, exported: boolean, rotate: boolean): RouteResult {
  const commonName = parseOptionalString(ctx.body.common_name);
  if (commonName === undefined || commonName === '') throw badRequest('the common_name field is required');
  const warnings: string[] = [];
  let ttl = parseTtlSeconds(ctx.body.ttl, 'ttl') ?? ctx.mount.defaultLeaseTtlSeconds;
  if (ttl > ctx.mount.maxLeaseTtlSeconds) {
    warnings.push(`TTL "${goDuration(ttl)}" is longer than the mount's max TTL "${goDuration(ctx.mount.maxLeaseTtlSeconds)}", so the max is used`);
    ttl = ctx.mount.maxLeaseTtlSeconds;
  }
  const keyAlgorithm = rootKeyAlgorithm(ctx.body);
  // Like Vault: the subject is the common name, plus an O only when `organization` is given.
  const root = createRootCa({ commonName, organization: parseOptionalString(ctx.body.organization) ?? null, validityMs: ttl * 1000, keyAlgorithm, now: ctx.now });
  const id = randomUUID();
  const entry = {
    id,
    keyId: randomUUID(),
    name: parseOptionalString(ctx.body.issuer_name) ?? '',
    issuer: root.issuer,
    serialNumber: colonHex(new X509Certificate(root.certificatePem).serialNumber.toLowerCase()),
  };
  pki.issuers.push(entry);
  // Like Vault >= 1.11: a second root adds an issuer; the default only moves when there was none.
  if (pki.defaultIssuerId === undefined) pki.defaultIssuerId = id;
  else if (!rotate) warnings.push('This mount already had a default issuer; the new issuer was added but is not the default.');
  const data: Record<string, unknown> = {
    certificate: root.certificatePem.trim(),
    issuing_ca: root.certificatePem.trim(),
    serial_number: entry.serialNumber,
    expiration: Math.floor(root.issuer.notAfter.getTime() / 1000),
    issuer_id: id,
    issuer_name: entry.name,
    key_id: entry.keyId,
    key_type: keyFamilyOf(keyAlgorithm),
  };
  if (exported) data.private_key = root.privateKeyPem;
  return json(200, envelope({ data, warnings }));
}


export function handlePki(ctx: PkiContext): RouteResult {
  const pki = ctx.mount.pki;
  if (pki === undefined) throw notFound();
  const [head, tail, ...rest] = ctx.subPath.split('/');
  const m = ctx.method;
  if (rest.length > 0) throw notFound();

  if (head === 'config' && tail === 'urls') {
    if (m === 'GET') {
      return json(200, envelope({ data: { issuing_certificates: pki.urls.issuingCertificates, crl_distribution_points: pki.urls.crlDistributionPoints, ocsp_servers: pki.urls.ocspServers } }));
    }
    if (m === 'POST' || m === 'PUT') {
      pki.urls = {
        issuingCertificates: parseList(ctx.body.issuing_certificates),
        crlDistributionPoints: parseList(ctx.body.crl_distribution_points),
        ocspServers: parseList(ctx.body.ocsp_servers),
      };
      return empty();
    }
  }
  if (head === 'roles' && tail === undefined && m === 'LIST') {
    if (pki.roles.size === 0) throw notFound();
    return json(200, envelope({ data: { keys: [...pki.roles.keys()] } }));
  }
  if (head === 'roles' && tail !== undefined && tail !== '') {
    if (m === 'GET') {
      const role = pki.roles.get(tail);
      if (role === undefined) throw notFound();
      return json(200, envelope({ data: roleData(role) }));
    }
    if (m === 'POST' || m === 'PUT') {
      const { role, warnings } = parseRole(ctx.body);
      pki.roles.set(tail, role);
      // Vault >= 1.13 answers a role write with 200 and the role; clients must accept 200 or 204.
      return json(200, envelope({ data: roleData(role), warnings }));
    }
    if (m === 'DELETE') {
      pki.roles.delete(tail);
      return empty();
    }
  }
  if (head === 'root' && tail === 'generate') throw notFound();
  if (ctx.subPath === 'ca/pem' && m === 'GET') {
    const ca = defaultIssuer(pki);
    if (ca === undefined) return empty(204);
    return { kind: 'raw', status: 200, contentType: 'application/pem-certificate-chain', body: ca.issuer.certificatePem.trim() };
  }
  if (ctx.subPath === 'ca' && m === 'GET') {
    const ca = defaultIssuer(pki);
    if (ca === undefined) return empty(204);
    return { kind: 'raw', status: 200, contentType: 'application/pkix-cert', body: ca.issuer.certificateDer };
  }
  if (ctx.subPath === 'cert/ca' && m === 'GET') {
    const ca = defaultIssuer(pki);
    return json(200, envelope({ data: { certificate: ca === undefined ? '' : ca.issuer.certificatePem.trim(), revocation_time: 0 } }));
  }
  if ((head === 'issue' || head === 'sign') && tail !== undefined && (m === 'POST' || m === 'PUT')) {
    return issueOrSign(ctx, head, tail);
  }
  throw new VaultApiError(404, []);
}

/** root/generate|rotate/<type> (three segments) and root/replace, apart from the two-segment table above. */
export function handlePkiRoot(ctx: PkiContext): RouteResult | undefined {
  const pki = ctx.mount.pki;
  if (pki === undefined) return undefined;
  if (ctx.subPath === 'root/replace') {
    if (ctx.method !== 'POST' && ctx.method !== 'PUT') throw new VaultApiError(405, ['unsupported operation']);
    return setDefaultIssuer(pki, ctx.body.default);
  }
  const match = /^root\/(generate|rotate)\/(internal|exported)$/.exec(ctx.subPath);
  if (match === null) return undefined;
  if (ctx.method !== 'POST' && ctx.method !== 'PUT') throw new VaultApiError(405, ['unsupported operation']);
  // rotate adds an issuer beside the default one and never moves the default (root/replace does).
  return generateRoot(ctx, pki, match[2] === 'exported', match[1] === 'rotate');
}
