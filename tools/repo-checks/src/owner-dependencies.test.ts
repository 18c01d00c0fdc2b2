// The product owner named the project's dependencies: nx builds and tests the workspace, express
// serves the HTTP API, BullMQ carries the queue, node-vault is the Vault client, Testcontainers
// starts the test servers. A change that quietly replaces one (a hand-written Vault client, say)
// passes every other check — package.json lists only what is imported — so this one holds the
// list itself: each named package is declared by the projects that use it, in the right list, and
// really imported (by production code, or by test code for the test-only ones); nx is declared by
// the workspace root and runs its tests.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectImports, readJson, repoRoot, workspaceProjects, type PackageJson, type WorkspaceProject } from './workspace.test-helpers.js';

/**
 * production: imported by the shipped code of a deployable project, which lists it in `dependencies`.
 * test: imported by test code (suites, their helpers, or the type:testing fixtures), listed only in
 * `devDependencies`, never shipped. toolchain: a devDependency of the workspace root that its
 * scripts run.
 */
type Role = 'production' | 'test' | 'toolchain';

const OWNER_DEPENDENCIES: ReadonlyArray<{ readonly name: string; readonly role: Role; readonly why: string }> = [
  { name: 'nx', role: 'toolchain', why: 'builds and tests the monorepo: npm test is nx run-many' },
  { name: 'express', role: 'production', why: 'serves the issuer-gateway HTTP API' },
  { name: 'bullmq', role: 'production', why: 'carries issue and rotate jobs between the gateway and the CA services' },
  { name: 'node-vault', role: 'production', why: 'is the Vault client of record, through which the Vault provider speaks to Vault' },
  { name: 'testcontainers', role: 'test', why: 'starts the servers the integration suites run against, where a container runtime exists' },
];

/** Projects whose code never ships (test fixtures and tools): all of it counts as test code here. */
const NEVER_DEPLOYED = ['type:testing', 'type:tool'];

interface ProjectView {
  readonly dir: string;
  readonly pkg: PackageJson;
  readonly deployable: boolean;
  /** Packages imported by shipped code (empty for never-deployed projects). */
  readonly production: ReadonlySet<string>;
  /** Packages imported by test code (tests, helpers, and every file of a never-deployed project). */
  readonly test: ReadonlySet<string>;
}

interface WorkspaceView {
  readonly root: PackageJson & { readonly scripts?: Readonly<Record<string, string>> };
  readonly hasNxJson: boolean;
  readonly projects: readonly ProjectView[];
  /** package-lock.json: name -> { version, dev }. */
  readonly locked: (name: string) => { readonly version?: string; readonly dev?: boolean } | undefined;
}

function view(project: WorkspaceProject): ProjectView {
  const deployable = !project.tags.some((t) => NEVER_DEPLOYED.includes(t));
  const { production, test } = projectImports(project);
  return {
    dir: project.dir,
    pkg: project.pkg,
    deployable,
    production: new Set(deployable ? production.keys() : []),
    test: new Set([...test.keys(), ...(deployable ? [] : production.keys())]),
  };
}

function readWorkspace(): WorkspaceView {
  const lock = readJson<{ packages: Record<string, { version?: string; dev?: boolean }> }>(path.join(repoRoot, 'package-lock.json'));
  return {
    root: readJson(path.join(repoRoot, 'package.json')),
    hasNxJson: existsSync(path.join(repoRoot, 'nx.json')),
    projects: workspaceProjects().map(view),
    locked: (name) => lock.packages[`node_modules/${name}`],
  };
}

/** What is wrong with one owner-named dependency in this workspace; empty when all is well. */
function ownerDependencyProblems(workspace: WorkspaceView, dependency: { readonly name: string; readonly role: Role; readonly why: string }): string[] {
  const { name, role, why } = dependency;
  const problems: string[] = [];
  const say = (what: string): void => void problems.push(`${name} (${why}): ${what}`);
  const declaredIn = (list: 'dependencies' | 'devDependencies'): ProjectView[] => workspace.projects.filter((p) => p.pkg[list]?.[name] !== undefined);
  const locked = workspace.locked(name);

  if (role === 'toolchain') {
    if (workspace.root.devDependencies?.[name] === undefined) say('the root package.json does not list it in devDependencies');
    const runs = Object.entries(workspace.root.scripts ?? {}).filter(([, command]) => new RegExp(`(^|[\\s;&|])${name}\\s`).test(command));
    if (runs.length === 0) say(`no script of the root package.json runs \`${name}\``);
    if (name === 'nx' && !workspace.hasNxJson) say('there is no nx.json at the workspace root');
    if (locked === undefined) say('package-lock.json does not install it');
    return problems;
  }

  const importers = workspace.projects.filter((p) => (role === 'production' ? p.production : p.test).has(name));
  if (importers.length === 0) {
    say(role === 'production' ? 'no production code of a deployable project imports it' : 'no test code imports it');
  }
  for (const project of importers) {
    const list = role === 'production' ? 'dependencies' : 'devDependencies';
    if (project.pkg[list]?.[name] === undefined) say(`${project.dir} imports it but its package.json does not list it in ${list}`);
  }
  if (role === 'production') {
    for (const project of declaredIn('devDependencies')) {
      if (project.deployable && project.production.has(name)) say(`${project.dir} lists it in devDependencies, but its production code needs it at run time`);
    }
    if (locked === undefined) say('package-lock.json does not install it');
    else if (locked.dev === true) say('package-lock.json marks it dev-only, so `npm ci --omit=dev` (the images) would leave it out');
  } else {
    for (const project of declaredIn('dependencies')) say(`${project.dir} lists it in dependencies, which would ship it in a production image`);
    if (locked !== undefined && locked.dev !== true) say('package-lock.json would install it with `npm ci --omit=dev`');
    if (locked === undefined) say('package-lock.json does not install it');
  }
  return problems;
}

describe('the dependencies the product owner named', () => {
  const workspace = readWorkspace();

  it.each(OWNER_DEPENDENCIES.map((d) => [d.name, d] as const))('%s is declared where it is used, and used', (_name, dependency) => {
    expect(ownerDependencyProblems(workspace, dependency)).toEqual([]);
  });

  it('names the Vault client the Vault provider actually imports', () => {
    const providers = workspace.projects.find((p) => p.dir === 'libs/providers');
    expect(providers?.production.has('node-vault')).toBe(true);
  });
});

describe('the owner-dependency check itself', () => {
  const project = (dir: string, pkg: Partial<PackageJson>, imports: { production?: string[]; test?: string[] }, deployable = true): ProjectView => ({
    dir,
    pkg: { name: `@fsm-certs/${path.basename(dir)}`, ...pkg },
    deployable,
    production: new Set(imports.production ?? []),
    test: new Set(imports.test ?? []),
  });
  const healthy = (projects: ProjectView[], devOnly: readonly string[] = ['testcontainers']): WorkspaceView => ({
    root: { name: 'fsm-certs', devDependencies: { nx: '1.0.0' }, scripts: { test: 'nx run-many -t test' } },
    hasNxJson: true,
    projects,
    locked: (name) => ({ version: '1.0.0', ...(devOnly.includes(name) ? { dev: true } : {}) }),
  });
  const vaultUser = project('libs/providers', { dependencies: { 'node-vault': '0.12.0' }, devDependencies: { testcontainers: '1' } }, { production: ['node-vault'], test: ['testcontainers'] });
  const nodeVault = { name: 'node-vault', role: 'production' as const, why: 'is the Vault client' };
  const containers = { name: 'testcontainers', role: 'test' as const, why: 'starts test servers' };
  const nx = { name: 'nx', role: 'toolchain' as const, why: 'runs the tests' };

  it('passes a workspace that declares and imports each package where it belongs', () => {
    const workspace = healthy([vaultUser]);
    expect([nodeVault, containers, nx].flatMap((d) => ownerDependencyProblems(workspace, d))).toEqual([]);
  });

  it('fails when the Vault client is replaced by hand-written HTTP: declared nowhere, imported nowhere', () => {
    const workspace = healthy([project('libs/providers', {}, { production: ['zod'] })]);
    expect(ownerDependencyProblems(workspace, nodeVault)).toEqual(['node-vault (is the Vault client): no production code of a deployable project imports it']);
  });

  it('fails when a production package is imported but not declared, or declared only for development', () => {
    const undeclared = healthy([project('libs/providers', {}, { production: ['node-vault'] })]);
    expect(ownerDependencyProblems(undeclared, nodeVault)).toContain('node-vault (is the Vault client): libs/providers imports it but its package.json does not list it in dependencies');
    const devOnly = healthy([project('libs/providers', { devDependencies: { 'node-vault': '0.12.0' } }, { production: ['node-vault'] })], ['node-vault']);
    expect(ownerDependencyProblems(devOnly, nodeVault)).toEqual([
      'node-vault (is the Vault client): libs/providers imports it but its package.json does not list it in dependencies',
      'node-vault (is the Vault client): libs/providers lists it in devDependencies, but its production code needs it at run time',
      'node-vault (is the Vault client): package-lock.json marks it dev-only, so `npm ci --omit=dev` (the images) would leave it out',
    ]);
  });

  it('fails when a test-only package would ship, or no test uses it', () => {
    const shipped = healthy([project('libs/testing', { dependencies: { testcontainers: '1' } }, { test: ['testcontainers'] }, false)], []);
    expect(ownerDependencyProblems(shipped, containers)).toEqual([
      'testcontainers (starts test servers): libs/testing imports it but its package.json does not list it in devDependencies',
      'testcontainers (starts test servers): libs/testing lists it in dependencies, which would ship it in a production image',
      'testcontainers (starts test servers): package-lock.json would install it with `npm ci --omit=dev`',
    ]);
    expect(ownerDependencyProblems(healthy([vaultUser].map((p) => ({ ...p, test: new Set<string>() }))), containers)).toEqual([
      'testcontainers (starts test servers): no test code imports it',
    ]);
  });

  it('fails when nx is no longer what runs the workspace', () => {
    const workspace: WorkspaceView = { ...healthy([vaultUser]), root: { name: 'fsm-certs', devDependencies: {}, scripts: { test: 'vitest run' } }, hasNxJson: false };
    expect(ownerDependencyProblems(workspace, nx)).toEqual([
      'nx (runs the tests): the root package.json does not list it in devDependencies',
      'nx (runs the tests): no script of the root package.json runs `nx`',
      'nx (runs the tests): there is no nx.json at the workspace root',
    ]);
  });
});
