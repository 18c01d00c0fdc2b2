// The runbooks' kubectl lines must name objects the chart really creates (release fsm-certs in
// fsm-system): a restart of a Deployment that does not exist is a runbook that fails at 3 a.m.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { render, repoRoot } from './helm.js';

const files = [path.join(repoRoot, 'README.md'), ...readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join(repoRoot, 'docs', f))];

/** "<kind>/<name>" for every Deployment, StatefulSet, Service and PVC a kubectl line names. */
function namedObjects(text: string): string[] {
  const kinds: Record<string, string> = { deploy: 'Deployment', deployment: 'Deployment', statefulset: 'StatefulSet', sts: 'StatefulSet', svc: 'Service', service: 'Service', pvc: 'PersistentVolumeClaim' };
  const found: string[] = [];
  for (const line of text.split('\n').filter((l) => l.includes('kubectl '))) {
    for (const match of line.matchAll(/\b(deploy|deployment|statefulset|sts|svc|service|pvc)(?:\s+|\/)([a-z0-9][a-z0-9.-]*)/g)) {
      const [, kind, name] = match;
      if (kind !== undefined && name !== undefined && kinds[kind] !== undefined) found.push(`${kinds[kind]}/${name}`);
    }
  }
  return found;
}

describe('the docs name the objects the chart creates', () => {
  const objects = render({ set: {} });
  const existing = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
  // The StatefulSet's volume claim: <template name>-<statefulset>-<ordinal>.
  existing.add('PersistentVolumeClaim/data-fsm-certs-redis-0');

  it('finds kubectl lines naming Deployments in the runbooks', () => {
    expect(namedObjects(readFileSync(path.join(repoRoot, 'docs', 'operations.md'), 'utf8'))).toContain('Deployment/fsm-certs-ca-service');
  });

  it.each(files.map((f) => [path.relative(repoRoot, f), f]))('%s names only objects the chart renders', (_name, file) => {
    const missing = namedObjects(readFileSync(file, 'utf8')).filter((object) => !existing.has(object));
    expect(missing).toEqual([]);
  });
});
