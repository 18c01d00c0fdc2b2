// Which names a token may have certificates for. Patterns (case-insensitive):
//   `*`                           any name
//   `*.bookstore.cluster.local`   exactly one label in front of the suffix (like a DNS wildcard)
//   `**.bookstore.cluster.local`  one or more labels in front of the suffix
//   `bookstore-v1.bookstore.svc`  exactly that name
// A single-label `*` matches the way TLS wildcards do, so `*.ns.cluster.local` does not silently
// grant `a.b.ns.cluster.local`; `**.` is there for whoever really wants a subtree.

export interface NameMatcher {
  /** True when the name is covered by at least one pattern. */
  allows(name: string): boolean;
  /** True when every name is allowed (the `*` pattern), e.g. for IP / URI SANs. */
  readonly unrestricted: boolean;
}

type Rule = { kind: 'any' } | { kind: 'exact'; name: string } | { kind: 'one-label'; suffix: string } | { kind: 'subtree'; suffix: string };

const LABEL = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

export function isValidPattern(pattern: string): boolean {
  const p = pattern.toLowerCase();
  if (p === '*') return true;
  const rest = p.startsWith('**.') ? p.slice(3) : p.startsWith('*.') ? p.slice(2) : p;
  return rest.length > 0 && rest.length <= 253 && rest.split('.').every((label) => LABEL.test(label));
}

function compile(pattern: string): Rule {
  const p = pattern.toLowerCase();
  if (p === '*') return { kind: 'any' };
  if (p.startsWith('**.')) return { kind: 'subtree', suffix: p.slice(2) };
  if (p.startsWith('*.')) return { kind: 'one-label', suffix: p.slice(1) };
  return { kind: 'exact', name: p };
}

function matches(rule: Rule, name: string): boolean {
  switch (rule.kind) {
    case 'any':
      return true;
    case 'exact':
      return name === rule.name;
    case 'one-label': {
      if (!name.endsWith(rule.suffix)) return false;
      const head = name.slice(0, name.length - rule.suffix.length);
      return head.length > 0 && !head.includes('.');
    }
    case 'subtree':
      return name.length > rule.suffix.length && name.endsWith(rule.suffix);
  }
}

export function nameMatcher(patterns: readonly string[]): NameMatcher {
  const rules = patterns.map(compile);
  const unrestricted = rules.some((r) => r.kind === 'any');
  return {
    unrestricted,
    allows(name: string): boolean {
      const n = name.toLowerCase();
      return rules.some((rule) => matches(rule, n));
    },
  };
}
