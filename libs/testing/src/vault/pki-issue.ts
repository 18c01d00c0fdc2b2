// pki/issue/<role> and pki/sign/<role>: the role's name and TTL rules, the CA-expiry refusal,
// and Vault's response fields (colon-hex serial, unix-seconds expiration, private_key_type).
import { createPrivateKey } from 'node:crypto';
import { keyFamilyOf, type KeyAlgorithm } from '@fsm-certs/core';
import { issueLeaf, parseCsr } from '@fsm-certs/x509';
import type { ParsedCsr } from '@fsm-certs/x509';
import { VaultApiError, badRequest, envelope, parseList, parseOptionalString, parseTtlSeconds } from './http.js';
import { checkNames, decideTtl } from './role-policy.js';
import { json } from './routes.js';
import type { PkiContext, RouteResult } from './routes.js';
import { defaultIssuer } from './state.js';
import type { RoleEntry } from './state.js';

export function colonHex(hex: string): string {
  const even = hex.length % 2 === 1 ? `0${hex}` : hex;
  return (even.match(/../g) ?? []).join(':');
}

function algorithmFor(keyType: string, bits: number): KeyAlgorithm {
  if (keyType === 'ec') {
    if (bits !== 0 && bits !== 256) throw new VaultApiError(500, [`1 error occurred:\n\t* failed to validate role: unsupported bit length for EC key: ${bits}\n\n`]);
    return 'ecdsa-p256';
  }
  if (keyType === 'rsa') {
    if (bits === 3072) return 'rsa-3072';
    if (bits === 4096) return 'rsa-4096';
    if (bits === 0 || bits === 2048) return 'rsa-2048';
    throw new VaultApiError(500, [`1 error occurred:\n\t* failed to validate role: unsupported bit length for RSA key: ${bits}\n\n`]);
  }
  throw badRequest(`role key type "${keyType}" not allowed for issuing certificates, only signing`);
}

/**
 * The key pki/issue generates: the role's, or with key_type=any the request's key_type/key_bits.
 * A role with a fixed type ignores the request's, with Vault's warning.
 */
function issueKeyAlgorithm(role: RoleEntry, body: Record<string, unknown>, warnings: string[]): KeyAlgorithm {
  const askedType = parseOptionalString(body.key_type);
  const askedBits = body.key_bits === undefined ? undefined : Number(body.key_bits);
  if (role.keyType === 'any') {
    if (askedType === undefined || askedType === '' || askedType === 'any') {
      throw badRequest('role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters');
    }
    return algorithmFor(askedType, askedBits ?? 0);
  }
  if (askedType !== undefined || askedBits !== undefined) warnings.push('parameters key_type and key_bits ignored as role had specific values');
  return algorithmFor(role.keyType, role.keyBits);
}

function parseCsrOrRefuse(value: unknown): ParsedCsr {
  const pem = parseOptionalString(value);
  if (pem === undefined || pem.trim() === '') throw badRequest('"csr" is empty');
  try {
    return parseCsr(pem);
  } catch (error) {
    throw badRequest(`certificate request could not be parsed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Vault's private_key output: SEC1 / PKCS#1 PEM unless private_key_format=pkcs8. */
function vaultPrivateKey(pkcs8Pem: string, family: 'ec' | 'rsa', format: string | undefined): string {
  if (format === 'pkcs8') return pkcs8Pem;
  return createPrivateKey(pkcs8Pem)
    .export({ type: family === 'ec' ? 'sec1' : 'pkcs1', format: 'pem' })
    .toString();
}

export function issueOrSign(ctx: PkiContext, mode: 'issue' | 'sign', roleName: string): RouteResult {
  const pki = ctx.mount.pki;
  if (pki === undefined) throw new VaultApiError(404, []);
  const role = pki.roles.get(roleName);
  if (role === undefined) throw badRequest(`unknown role: ${roleName}`);
  const ca = defaultIssuer(pki);
  if (ca === undefined) throw badRequest('no default issuer currently configured: set one with pki/root/generate or pki/config/issuers');

  const csr = mode === 'sign' ? parseCsrOrRefuse(ctx.body.csr) : undefined;
  const useCsrCn = csr !== undefined && role.useCsrCommonName;
  const useCsrSans = csr !== undefined && role.useCsrSans;
  const commonName = (useCsrCn ? csr.commonName : undefined) ?? parseOptionalString(ctx.body.common_name) ?? '';
  if (commonName === '') {
    throw badRequest('the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false');
  }
  const dnsSans = useCsrSans ? [...csr.dnsNames] : parseList(ctx.body.alt_names);
  const uriSans = useCsrSans ? [...csr.uris] : parseList(ctx.body.uri_sans);
  const ipSans = useCsrSans ? [...csr.ipAddresses] : parseList(ctx.body.ip_sans);
  checkNames(role, commonName, dnsSans, uriSans, ipSans);

  if (csr !== undefined && role.keyType !== 'any' && keyFamilyOf(csr.keyAlgorithm) !== role.keyType) {
    throw badRequest(`role requires keys of type ${role.keyType}`);
  }
  const keyWarnings: string[] = [];
  const keyAlgorithm = csr === undefined ? issueKeyAlgorithm(role, ctx.body, keyWarnings) : csr.keyAlgorithm;

  const decision = decideTtl(role, parseTtlSeconds(ctx.body.ttl, 'ttl'), ctx.mount.defaultLeaseTtlSeconds, ctx.mount.maxLeaseTtlSeconds);
  const notAfter = new Date(ctx.now.getTime() + decision.ttlSeconds * 1000);
  if (notAfter.getTime() > ca.issuer.notAfter.getTime()) {
    throw badRequest(
      `cannot satisfy request, as TTL would result in notAfter ${notAfter.toISOString()} that is beyond the expiration of the CA certificate at ${ca.issuer.notAfter.toISOString()}`,
    );
  }
  let leaf;
  try {
    leaf = issueLeaf(ca.issuer, {
      commonName,
      dnsNames: dnsSans,
      uris: uriSans,
      ipAddresses: ipSans,
      validityMs: decision.ttlSeconds * 1000,
      keyAlgorithm,
      now: ctx.now,
      ...(csr === undefined ? {} : { publicKey: csr.publicKey }),
    });
  } catch (error) {
    throw badRequest(error instanceof Error ? error.message : String(error));
  }
  const data: Record<string, unknown> = {
    certificate: leaf.certificatePem.trim(),
    issuing_ca: ca.issuer.certificatePem.trim(),
    ca_chain: [ca.issuer.certificatePem.trim()],
    serial_number: colonHex(leaf.serialNumber),
    expiration: Math.floor(leaf.notAfter.getTime() / 1000),
  };
  if (mode === 'issue' && leaf.privateKeyPem !== undefined) {
    const family = keyFamilyOf(keyAlgorithm);
    data.private_key = vaultPrivateKey(leaf.privateKeyPem, family, parseOptionalString(ctx.body.private_key_format));
    data.private_key_type = family;
  }
  return json(200, envelope({ data, warnings: [...decision.warnings, ...keyWarnings] }));
}
