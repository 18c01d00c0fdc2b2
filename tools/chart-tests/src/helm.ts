// Runs the pinned helm (installed by .ci/install-helm into .tools/bin) on the chart and parses
// what it renders. No cluster is involved: `helm template` and `helm lint` work offline.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

export const HELM_VERSION = 'v3.22.0';

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (nx.json)');
    dir = parent;
  }
  return dir;
}

export const repoRoot = findRepoRoot();
export const chartDir = path.join(repoRoot, 'deploy', 'helm', 'fsm-certs');

/** HELM when set (a path), else the pinned one from .ci/install-helm. Fails loudly when missing. */
export function helmBinary(): string {
  const fromEnv = process.env['HELM'];
  const helm = fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(repoRoot, '.tools', 'bin', 'helm');
  if (!existsSync(helm)) {
    throw new Error(`helm not found at ${helm}: run .ci/install-helm (go install helm.sh/helm/v3/cmd/helm@${HELM_VERSION} into .tools/bin)`);
  }
  return helm;
}

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function helm(args: readonly string[]): HelmResult {
  const result = spawnSync(helmBinary(), [...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, HELM_CACHE_HOME: path.join(repoRoot, '.tools', 'helm-cache'), HELM_CONFIG_HOME: path.join(repoRoot, '.tools', 'helm-config') } });
  if (result.error !== undefined) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** `--set` pairs in order; values are strings as on a command line (helm types them). */
export type SetValues = Readonly<Record<string, string>>;

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  readonly set?: SetValues;
}

function setArgs(set: SetValues | undefined): string[] {
  return Object.entries(set ?? {}).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
}

export function templateArgs(options: RenderOptions = {}, chart: string = chartDir): string[] {
  return ['template', options.release ?? 'fsm-certs', chart, '--namespace', options.namespace ?? 'fsm-system', ...setArgs(options.set)];
}

const objectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});
export type KubeObject = z.infer<typeof objectSchema>;

export function parseManifests(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]?.message ?? ''}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    objects.push(objectSchema.parse(value));
  }
  return objects;
}

/** Every object `helm template` renders with these values; throws with helm's message on failure. */
export function render(options: RenderOptions = {}): KubeObject[] {
  const result = helm(templateArgs(options));
  if (result.status !== 0) throw new Error(`helm template failed (${result.status}): ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}

/** helm's error output when rendering is refused (schema or a template's fail), else throws. */
export function renderError(options: RenderOptions): string {
  const result = helm(templateArgs(options));
  if (result.status === 0) throw new Error(`helm template accepted ${JSON.stringify(options.set)}`);
  return result.stderr;
}

export function lint(set: SetValues): HelmResult {
  return helm(['lint', '--strict', chartDir, '--namespace', 'fsm-system', ...setArgs(set)]);
}

/**
 * NOTES.txt as `helm install` prints it. `helm template` skips NOTES and `helm install
 * --dry-run` needs a cluster, so a copy of the chart renders the same text into a ConfigMap.
 */
export function renderNotes(options: RenderOptions = {}): string {
  const copy = mkdtempSync(path.join(tmpdir(), 'fsm-certs-chart-'));
  try {
    cpSync(chartDir, copy, { recursive: true });
    const notesFile = path.join(copy, 'templates', 'NOTES.txt');
    const notes = readFileSync(notesFile, 'utf8');
    unlinkSync(notesFile);
    writeFileSync(
      path.join(copy, 'templates', 'zz-notes.yaml'),
      `{{- define "chart-tests.notes" }}${notes}{{ end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered-notes\ndata:\n  notes: {{ include "chart-tests.notes" . | toJson }}\n`,
    );
    const result = helm(templateArgs(options, copy));
    if (result.status !== 0) throw new Error(`helm template failed (${result.status}): ${result.stderr.trim()}`);
    const rendered = parseManifests(result.stdout).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'rendered-notes');
    return z.object({ data: z.object({ notes: z.string() }) }).parse(rendered).data.notes;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}
