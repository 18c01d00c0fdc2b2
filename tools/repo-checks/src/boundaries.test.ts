// The architecture's dependency rules (docs/architecture.md), checked on the source itself: every import of a
// workspace package or of a forbidden framework is found and judged by the importing project's tag.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Project {
  readonly name: string;
  readonly dir: string;
  readonly tags: readonly string[];
}

function projects(): Project[] {
  const found: Project[] = [];
  for (const group of ['apps', 'libs', 'tools']) {
    for (const entry of readdirSync(path.join(root, group))) {
      const pkgFile = path.join(root, group, entry, 'package.json');
      try {
        const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name: string; nx?: { tags?: string[] } };
        found.push({ name: pkg.name.replace('@fsm-certs/', ''), dir: path.join(root, group, entry), tags: pkg.nx?.tags ?? [] });
      } catch {
        // not a project
      }
    }
  }
  return found;
}

function sourceFiles(dir: string, includeTests: boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d)) {
      if (entry === 'node_modules' || entry === 'dist') continue;
      const full = path.join(d, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (full.endsWith('.ts') && (includeTests || !/\.test(-helpers)?\.ts$/.test(full))) out.push(full);
    }
  };
  walk(path.join(dir, 'src'));
  return out;
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? '').filter((s) => s !== '');
}

const all = projects();
const byName = new Map(all.map((p) => [p.name, p]));

/** Production sources (tests excluded) and the workspace packages / frameworks they import. */
function productionImports(project: Project): Array<{ file: string; spec: string }> {
  return sourceFiles(project.dir, false).flatMap((file) => importsOf(file).map((spec) => ({ file: path.relative(root, file), spec })));
}

describe('project boundaries', () => {
  it('finds the projects and their tags', () => {
    expect(all.map((p) => p.name)).toEqual(expect.arrayContaining(['x509', 'config', 'providers', 'queue', 'gateway', 'issuance', 'ca-service', 'issuer-gateway']));
    for (const p of all) expect(p.tags.length, `${p.name} has no nx tag`).toBeGreaterThan(0);
    // The scanner really sees imports: providers builds on x509.
    const providers = byName.get('providers');
    expect(providers && productionImports(providers).some((i) => i.spec === '@fsm-certs/x509')).toBe(true);
  });

  it('keeps core free of any other package, and x509 and config free of any workspace package but core', () => {
    const core = byName.get('core');
    if (core === undefined) throw new Error('no core project');
    expect(productionImports(core).filter((i) => !i.spec.startsWith('.') && !i.spec.startsWith('node:')), 'core imports').toEqual([]);
    for (const name of ['x509', 'config']) {
      const project = byName.get(name);
      if (project === undefined) throw new Error(`no ${name} project`);
      const ours = productionImports(project).filter((i) => i.spec.startsWith('@fsm-certs/') && i.spec !== '@fsm-certs/core');
      expect(ours, `${name} imports`).toEqual([]);
    }
  });

  it('never lets a lib import an app, a tool or the test fixtures', () => {
    const forbidden = new Set(all.filter((p) => p.tags.includes('type:app') || p.tags.includes('type:tool') || p.tags.includes('type:testing')).map((p) => `@fsm-certs/${p.name}`));
    for (const project of all.filter((p) => p.dir.includes(`${path.sep}libs${path.sep}`))) {
      const bad = productionImports(project).filter((i) => forbidden.has(i.spec));
      expect(bad, `${project.name} imports`).toEqual([]);
    }
  });

  it('ships no test fixture inside an app', () => {
    for (const project of all.filter((p) => p.tags.includes('type:app'))) {
      const bad = productionImports(project).filter((i) => i.spec === '@fsm-certs/testing');
      expect(bad, `${project.name} imports`).toEqual([]);
    }
  });

  it('keeps providers, contracts and utilities away from express', () => {
    for (const project of all.filter((p) => p.tags.some((t) => t === 'type:provider' || t === 'type:contracts' || t === 'type:util'))) {
      const bad = productionImports(project).filter((i) => i.spec === 'express' || i.spec.startsWith('express/'));
      expect(bad, `${project.name} imports`).toEqual([]);
    }
  });

  it('imports other workspace packages only through their public entry point', () => {
    for (const project of all) {
      const deep = sourceFiles(project.dir, true)
        .flatMap((file) => importsOf(file).map((spec) => ({ file: path.relative(root, file), spec })))
        // A test may use a package's test-only entry point `@fsm-certs/<pkg>/testing` (exported under
        // the development condition alone, so nothing built can resolve it).
        .filter((i) => !(/\.test(-helpers)?\.ts$/.test(i.file) && /^@fsm-certs\/[^/]+\/testing$/.test(i.spec)))
        .filter((i) => /^@fsm-certs\/[^/]+\/.+/.test(i.spec) || /\.\.\/\.\.\/(libs|apps)\//.test(i.spec));
      expect(deep, `${project.name} deep imports`).toEqual([]);
    }
  });
});
