// The emulator's ACL policies: the subset of Vault's policy language the suites write —
// `path "<pattern>" { capabilities = [...] }` blocks, a trailing `*` for a prefix and `+` for one
// path segment — and Vault's rules for applying them: root may do everything, the most specific
// matching pattern decides, `deny` wins within it, and every token not created with
// no_default_policy carries the `default` policy (its own token look-up, renewal, revocation and
// capability check).
import { VaultApiError } from './http.js';

interface Rule {
  readonly pattern: string;
  readonly capabilities: ReadonlySet<string>;
}

/** Vault's built-in `default` policy, as far as the calls fsm-certs makes go. */
export const DEFAULT_POLICY = [
  'path "auth/token/lookup-self" { capabilities = ["read"] }',
  'path "auth/token/renew-self" { capabilities = ["update"] }',
  'path "auth/token/revoke-self" { capabilities = ["update"] }',
  'path "sys/capabilities-self" { capabilities = ["update"] }',
  'path "cubbyhole/*" { capabilities = ["create", "read", "update", "delete", "list"] }',
].join('\n');

const BLOCK = /path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;

/** The rules of one policy text; a text with no rule at all is refused as Vault does. */
export function parsePolicy(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const capabilities = new Set([...(match[2] ?? '').matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? ''));
    rules.push({ pattern: match[1] ?? '', capabilities });
  }
  if (rules.length === 0 && text.trim() !== '') throw new VaultApiError(400, ['failed to parse policy: no path blocks found']);
  return rules;
}

function matches(pattern: string, path: string): boolean {
  const prefix = pattern.endsWith('*');
  const body = prefix ? pattern.slice(0, -1) : pattern;
  const source = body.split('+').map((part) => part.replace(/[.*?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
  return new RegExp(`^${source}${prefix ? '' : '$'}`).test(path);
}

/** Higher is more specific: an exact pattern beats a glob, fewer `+` and a longer prefix win. */
function specificity(pattern: string): number {
  const exact = pattern.endsWith('*') ? 0 : 1_000_000;
  const plus = (pattern.match(/\+/g) ?? []).length;
  return exact + pattern.length * 100 - plus;
}

/** Capabilities of a token with these policies on a path (root: ['root']; nothing: ['deny']). */
export function capabilitiesOn(policies: ReadonlyMap<string, string>, tokenPolicies: readonly string[], path: string): string[] {
  if (tokenPolicies.includes('root')) return ['root'];
  const merged = new Map<string, Set<string>>();
  for (const name of tokenPolicies) {
    const text = name === 'default' ? (policies.get('default') ?? DEFAULT_POLICY) : policies.get(name);
    if (text === undefined) continue;
    for (const rule of parsePolicy(text)) {
      const caps = merged.get(rule.pattern) ?? new Set<string>();
      for (const c of rule.capabilities) caps.add(c);
      merged.set(rule.pattern, caps);
    }
  }
  let best: { pattern: string; caps: Set<string> } | undefined;
  for (const [pattern, caps] of merged) {
    if (matches(pattern, path) && (best === undefined || specificity(pattern) > specificity(best.pattern))) best = { pattern, caps };
  }
  if (best === undefined || best.caps.has('deny') || best.caps.size === 0) return ['deny'];
  return [...best.caps].sort();
}

/** What an HTTP verb needs: GET read, LIST list, POST/PUT create or update, DELETE delete. */
export function allowed(capabilities: readonly string[], method: string): boolean {
  if (capabilities.includes('root')) return true;
  if (capabilities.includes('deny')) return false;
  switch (method) {
    case 'GET':
      return capabilities.includes('read');
    case 'LIST':
      return capabilities.includes('list');
    case 'POST':
    case 'PUT':
      return capabilities.includes('update') || capabilities.includes('create');
    case 'DELETE':
      return capabilities.includes('delete');
    case 'PATCH':
      return capabilities.includes('patch');
    default:
      return false;
  }
}

/** Vault's answer to a valid token without the capability (a multierror, unlike a bad token's). */
export const aclDenied = (): VaultApiError => new VaultApiError(403, ['1 error occurred:\n\t* permission denied\n\n']);
