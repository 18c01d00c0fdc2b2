// Every project declares exactly the packages its files import, in the right list, pinned to
// the lock. The Dockerfiles install with `npm ci --omit=dev` at the workspace root, which
// installs the `dependencies` of EVERY workspace: a test-only package listed there would ship in
// every production image. Hence:
//   - deployable projects (apps, and libs except the test fixtures): a package imported by
//     production code is a dependency; one imported only by tests is a devDependency;
//   - projects never deployed (tags type:testing and type:tool) list everything as devDependencies;
//   - the root package.json holds only the toolchain (devDependencies), nothing for production.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  importedPackages,
  packageOf,
  projectImports,
  readJson,
  repoRoot,
  workspaceProjects,
  type PackageJson,
  type WorkspaceProject,
} from './workspace.test-helpers.js';

interface LockFile {
  readonly packages: Readonly<Record<string, { readonly version?: string; readonly dev?: boolean; readonly link?: boolean }>>;
}

const WORKSPACE_SCOPE = '@fsm-certs/';
/** Tags of projects that never go into a production image. */
const NEVER_DEPLOYED = ['type:testing', 'type:tool'];

const projects = workspaceProjects();
const lock = readJson<LockFile>(path.join(repoRoot, 'package-lock.json'));
const rootPkg = readJson<PackageJson & { readonly workspaces?: readonly string[] }>(path.join(repoRoot, 'package.json'));

function deployable(project: WorkspaceProject): boolean {
  return !project.tags.some((t) => NEVER_DEPLOYED.includes(t));
}

interface Expected {
  readonly dependencies: ReadonlyMap<string, string>;
  readonly devDependencies: ReadonlyMap<string, string>;
}

/** What a project's package.json must list, each package with the file that needs it. */
function expectedDeclarations(project: WorkspaceProject): Expected {
  const { production, test } = projectImports(project);
  const self = project.pkg.name;
  const dependencies = new Map<string, string>();
  const devDependencies = new Map<string, string>();
  for (const [name, file] of production) {
    if (name === self) continue;
    (deployable(project) ? dependencies : devDependencies).set(name, file);
  }
  for (const [name, file] of test) {
    if (name === self || dependencies.has(name) || devDependencies.has(name)) continue;
    devDependencies.set(name, file);
  }
  return { dependencies, devDependencies };
}

function lockedVersion(name: string): string | undefined {
  return lock.packages[`node_modules/${name}`]?.version;
}

describe('the import scanner', () => {
  it('finds static, type-only, re-exported and dynamic imports, and skips comments, strings, relative paths and node built-ins', () => {
    const text = [
      "import type { Job } from 'bullmq';",
      "import {\n  z,\n} from 'zod';",
      "export * from '@fsm-certs/queue';",
      "const { issueLeaf } = await import('@fsm-certs/x509');",
      "import { x } from 'vitest/config';",
      "// import nothing from 'commented-out';",
      "const text = \"import y from 'in-a-string'\";",
      "import { readFileSync } from 'node:fs';",
      "import path from 'path';",
      "import { here } from './here.js';",
    ].join('\n');
    expect(importedPackages(text)).toEqual(['@fsm-certs/queue', '@fsm-certs/x509', 'bullmq', 'vitest', 'zod']);
  });

  it('names the package of a deep or scoped specifier', () => {
    expect(packageOf('@kubernetes/client-node/dist/gen')).toBe('@kubernetes/client-node');
    expect(packageOf('vitest/config')).toBe('vitest');
    expect(packageOf('node:crypto')).toBeUndefined();
    expect(packageOf('crypto')).toBeUndefined();
  });

  it('sees what the projects import: the gateway serves express, the providers are tested with the fixtures', () => {
    const byDir = new Map(projects.map((p) => [p.dir, p]));
    const gateway = byDir.get('libs/gateway');
    const providers = byDir.get('libs/providers');
    if (gateway === undefined || providers === undefined) throw new Error('libs/gateway or libs/providers not found');
    expect(projectImports(gateway).production.has('express')).toBe(true);
    const providerImports = projectImports(providers);
    expect(providerImports.test.has('@fsm-certs/testing')).toBe(true);
    expect(providerImports.production.has('@fsm-certs/testing')).toBe(false);
  });
});

describe('package.json dependencies', () => {
  it('finds every workspace project', () => {
    expect(projects.map((p) => p.dir)).toEqual(expect.arrayContaining(['apps/ca-service', 'libs/x509', 'libs/testing', 'tools/bench']));
  });

  it.each(projects.map((p) => [p.dir, p] as const))('%s declares every package it imports, in the right list, and nothing else', (_dir, project) => {
    const expected = expectedDeclarations(project);
    const declared = {
      dependencies: Object.keys(project.pkg.dependencies ?? {}).sort(),
      devDependencies: Object.keys(project.pkg.devDependencies ?? {}).sort(),
    };
    const wanted = {
      dependencies: [...expected.dependencies.keys()].sort(),
      devDependencies: [...expected.devDependencies.keys()].sort(),
    };
    // On failure the message says which file needs what.
    const why = [...expected.dependencies, ...expected.devDependencies].map(([name, file]) => `${name} <- ${file}`).join('\n');
    expect(declared, `${project.dir}/package.json; imports found:\n${why}`).toEqual(wanted);
  });

  it('pins every npm package to the version in package-lock.json, and workspace packages to "*"', () => {
    const mismatches: string[] = [];
    const lists: Array<[string, Readonly<Record<string, string>> | undefined]> = [
      ['package.json devDependencies', rootPkg.devDependencies],
      ['package.json dependencies', rootPkg.dependencies],
      ...projects.flatMap((p): Array<[string, Readonly<Record<string, string>> | undefined]> => [
        [`${p.dir} dependencies`, p.pkg.dependencies],
        [`${p.dir} devDependencies`, p.pkg.devDependencies],
      ]),
    ];
    for (const [where, list] of lists) {
      for (const [name, spec] of Object.entries(list ?? {})) {
        const want = name.startsWith(WORKSPACE_SCOPE) ? '*' : lockedVersion(name);
        if (spec !== want) mismatches.push(`${where}: ${name} is "${spec}", want "${want ?? 'a version in package-lock.json'}"`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('keeps the root package.json to the toolchain: production packages are declared by the project that imports them', () => {
    expect(Object.keys(rootPkg.dependencies ?? {})).toEqual([]);
  });

  it('keeps test-only packages out of a production install (npm ci --omit=dev)', () => {
    const shipped = new Set(projects.filter(deployable).flatMap((p) => Object.keys(p.pkg.dependencies ?? {})));
    const testOnly = new Set(
      projects.flatMap((p) => [...Object.keys(p.pkg.devDependencies ?? {}), ...(deployable(p) ? [] : Object.keys(p.pkg.dependencies ?? {}))]),
    );
    const wrong: string[] = [];
    for (const name of testOnly) {
      if (shipped.has(name) || name.startsWith(WORKSPACE_SCOPE)) continue;
      if (lock.packages[`node_modules/${name}`]?.dev !== true) wrong.push(name);
    }
    // testcontainers in particular: a Docker client has no business in a CA's image.
    expect(testOnly.has('testcontainers')).toBe(true);
    expect(wrong, 'packages package-lock.json would install with --omit=dev').toEqual([]);
  });
});
