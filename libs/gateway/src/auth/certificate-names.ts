// Every name a certificate (or a request for one) carries, and the one check that the caller
// may have all of them. Issue, rotate, release and includeKey all go through requireCoverage,
// so no operation authorises by the common name alone.
import type { AuditedNames, CertificateName, CertificateNameKind } from '@fsm-certs/queue';
import { certificateNames } from '@fsm-certs/queue';
import { GatewayError } from '../errors.js';
import { policyRefusal, type PolicySubject } from './policy.js';
import type { Principal } from './tokens.js';

export { certificateNames, type CertificateName, type CertificateNameKind } from '@fsm-certs/queue';

/** The identity-bearing fields shared by stored records and queue items. */
export type NamedCertificate = AuditedNames;

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SPIFFE_WORKLOAD = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/**
 * The DNS name a SPIFFE id stands for: spiffe://<td>/ns/<ns>/sa/<sa> is `<sa>.<ns>.<td>` when the
 * trust domain is ours and both segments are single lowercase DNS labels (so a dotted or
 * upper-case segment cannot alias another name); otherwise undefined.
 */
export function spiffeIdentityName(uri: string, trustDomain: string): string | undefined {
  const match = SPIFFE_WORKLOAD.exec(uri);
  if (match === null) return undefined;
  const [, td, ns = '', sa = ''] = match;
  if (td !== trustDomain || !LABEL.test(ns) || !LABEL.test(sa)) return undefined;
  return `${sa}.${ns}.${td}`;
}

/**
 * Whether the caller's patterns cover `name` itself. Checked on the name in a path before the
 * record is looked up, so whether someone else's certificate exists does not show as 403 vs 404.
 */
export function coversName(principal: Principal, name: string): boolean {
  return principal.names.unrestricted || principal.names.allows(name);
}

export function isWildcard(name: string): boolean {
  return name.includes('*');
}

/** Whether the request asks for something new (400 on a wildcard) or acts on a stored certificate (403). */
export type CoverageContext = 'request' | 'stored';

/**
 * Throws unless `principal` may have every name: DNS names (and the CN) by its patterns, a SPIFFE
 * id of our trust domain through the name it stands for, IPs and other URIs only with the `*`
 * pattern. A wildcard name is refused unless the caller's policy allows wildcards.
 */
export function requireCoverage(principal: Principal, names: readonly CertificateName[], trustDomain: string, context: CoverageContext): void {
  const refusal = coverageRefusal(principal, names, trustDomain, context);
  if (refusal !== undefined) throw refusal;
}

/**
 * Whether `principal` may see a stored certificate at all (GET, list, events): exactly when it
 * may act on it. A caller with the `*` pattern sees every certificate, wildcards included, so an
 * operator can find what to release; includeKey and rotation still go through requireCoverage.
 */
export function mayRead(principal: Principal, cert: NamedCertificate, trustDomain: string): boolean {
  return principal.names.unrestricted || coverageRefusal(principal, certificateNames(cert), trustDomain, 'stored') === undefined;
}

/**
 * The refusal requireCoverage throws, or undefined. For a stored certificate the detail names
 * only the kind of name that is not covered, never its value: a caller that may not read the
 * certificate must not learn its other names from the error either.
 */
export function coverageRefusal(principal: Principal, names: readonly CertificateName[], trustDomain: string, context: CoverageContext): GatewayError | undefined {
  const who = principal.label;
  const cn = names.find((n) => n.kind === 'cn')?.value;
  const stored = `${who} may not act on the certificate for "${cn ?? ''}"`;
  for (const { kind, value } of names) {
    const what = kind === 'cn' ? 'common name' : `${kind.toUpperCase()} name`;
    if ((kind === 'cn' || kind === 'dns') && isWildcard(value) && !principal.policy.allowWildcards) {
      if (context === 'request') {
        return new GatewayError('INVALID_NAME', `"${value}" is a wildcard name; mesh identities are never wildcards, and ${who}'s policy does not allow them.`);
      }
      return new GatewayError('NAME_NOT_ALLOWED', `${stored}: it carries a wildcard ${what}, and ${who}'s policy does not allow wildcards.`);
    }
    if (!covers(principal, kind, value, trustDomain)) {
      if (context === 'stored') {
        return new GatewayError('NAME_NOT_ALLOWED', `${stored}: it carries a ${what} that ${who}'s name patterns do not cover (every name must be covered).`);
      }
      return new GatewayError('NAME_NOT_ALLOWED', `${who} may not obtain the ${what} "${value}"; its name patterns do not cover it.`);
    }
  }
  return undefined;
}

function covers(principal: Principal, kind: CertificateNameKind, value: string, trustDomain: string): boolean {
  if (principal.names.unrestricted) return true;
  switch (kind) {
    case 'cn':
    case 'dns':
      return principal.names.allows(value);
    case 'spiffe': {
      const name = spiffeIdentityName(value, trustDomain);
      return name !== undefined && principal.names.allows(name);
    }
    case 'ip':
    case 'uri':
      return false;
  }
}

/** Throws 403 POLICY_DENIED naming the rule when `subject` is beyond the caller's policy. */
export function requirePolicy(principal: Principal, subject: PolicySubject): void {
  const refusal = policyRefusal(principal.policy, subject);
  if (refusal !== undefined) {
    throw new GatewayError('POLICY_DENIED', `${principal.label}'s policy refuses this (rule "${refusal.rule}"): ${refusal.detail}.`);
  }
}
