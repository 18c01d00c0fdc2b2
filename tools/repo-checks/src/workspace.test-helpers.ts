// What the repository checks read: the workspace projects with their package.json, the packages
// each project's files import (found by TypeScript's own pre-parser, so comments, strings and
// multi-line imports are handled like the compiler handles them), and the tracked files.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface PackageJson {
  readonly name: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly nx?: { readonly tags?: readonly string[] };
}

export interface WorkspaceProject {
  /** Directory relative to the repository root, e.g. `libs/x509`. */
  readonly dir: string;
  readonly pkg: PackageJson;
  readonly tags: readonly string[];
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function workspaceProjects(root: string = repoRoot): WorkspaceProject[] {
  const found: WorkspaceProject[] = [];
  for (const group of ['apps', 'libs', 'tools']) {
    const groupDir = path.join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir).sort()) {
      const pkgFile = path.join(groupDir, entry, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = readJson<PackageJson>(pkgFile);
      found.push({ dir: `${group}/${entry}`, pkg, tags: pkg.nx?.tags ?? [] });
    }
  }
  return found;
}

/** Test code: suites and their helpers. Everything else under src/ is production code. */
export function isTestFile(file: string): boolean {
  return /\.test(-helpers)?\.ts$/.test(file) || file.split('/').includes('test');
}

/** Every .ts file under the project's src/ and test/, relative to the repository root. */
export function projectSourceFiles(project: WorkspaceProject, root: string = repoRoot): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      if (entry === 'node_modules' || entry === 'dist') continue;
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (full.endsWith('.ts')) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  for (const sub of ['src', 'test']) {
    const dir = path.join(root, project.dir, sub);
    if (existsSync(dir)) walk(dir);
  }
  return out;
}

const BUILTINS = new Set(builtinModules);

/** The npm or workspace package an import specifier names; undefined for relative paths and node built-ins. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
  return BUILTINS.has(name) ? undefined : name;
}

/** Packages imported by this source text: static, type-only, re-exports and dynamic import(). */
export function importedPackages(sourceText: string): string[] {
  const { importedFiles } = ts.preProcessFile(sourceText, true, true);
  const names = importedFiles.map((f) => packageOf(f.fileName)).filter((n): n is string => n !== undefined);
  return [...new Set(names)].sort();
}

export interface ProjectImports {
  /** Package → the first production file that imports it. */
  readonly production: ReadonlyMap<string, string>;
  /** Package → the first test file that imports it (whether or not production code does too). */
  readonly test: ReadonlyMap<string, string>;
}

export function projectImports(project: WorkspaceProject, root: string = repoRoot): ProjectImports {
  const production = new Map<string, string>();
  const test = new Map<string, string>();
  for (const file of projectSourceFiles(project, root)) {
    const into = isTestFile(file) ? test : production;
    for (const name of importedPackages(readFileSync(path.join(root, file), 'utf8'))) {
      if (!into.has(name)) into.set(name, file);
    }
  }
  return { production, test };
}

/**
 * Files git tracks, plus new ones not yet added (git's ignore rules keep build output, data and
 * node_modules out), relative to the root. Files deleted from the work tree are left out.
 */
export function repositoryFiles(root: string = repoRoot): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(out.split('\0'))].filter((f) => f !== '' && existsSync(path.join(root, f))).sort();
}
